"""Accounts (people who log in) and profiles (who is watching).

Personalization is per profile, never per user: every activity row and
setting hangs off a :class:`Profile`.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> "User":
        """The account with this e-mail address, ignoring case when nothing matches exactly.

        Phones capitalise the first letter of what is typed, and
        ``Viewer@example.com`` should still log in to ``viewer@example.com``;
        addresses are unique ignoring case, so at most one account matches.
        """
        try:
            return self.get(email=username)
        except self.model.DoesNotExist:
            return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(
        self, email: str, password: str | None = None, **extra
    ) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with a login: the e-mail address is the username."""

    class Source(models.TextChoices):
        SIGNUP = "signup", "Signed up"
        MOVIELENS = "movielens", "Imported from MovieLens"
        DEMO = "demo", "Demo data"

    email = models.EmailField("e-mail address", unique=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=Source, default=Source.SIGNUP)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_unique_email_ignoring_case",
                violation_error_message="An account with this e-mail address "
                "already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class Profile(models.Model):
    """One viewer of an account ("Who's watching?"); owns all personal signals."""

    MAX_PER_USER = 5

    class AvatarColor(models.TextChoices):
        RED = "#e50914", "Red"
        ORANGE = "#f5a623", "Orange"
        GREEN = "#2ecc71", "Green"
        TEAL = "#1abc9c", "Teal"
        BLUE = "#3498db", "Blue"
        PURPLE = "#9b59b6", "Purple"
        PINK = "#e84393", "Pink"
        GREY = "#95a5a6", "Grey"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=40)
    is_kids = models.BooleanField("kids profile", default=False)
    avatar_color = models.CharField(
        max_length=7, choices=AvatarColor, default=AvatarColor.BLUE
    )
    allow_training = models.BooleanField(
        "use my activity to improve recommendations for others",
        default=True,
        help_text="Off keeps this profile out of every training set; its own rows "
        "still use its signals.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    activity_changed_at = models.DateTimeField(
        default=timezone.now,
        help_text="Last change to anything the home rows are built from; part of "
        "the rows' cache key, so every process sees a change at once.",
    )

    class Meta:
        ordering = ["user_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], name="profile_unique_name_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def initial(self) -> str:
        """The letter shown on the avatar."""
        return self.name[:1].upper() or "?"

    @property
    def avatar_color_name(self) -> str:
        """``red``, ``blue``…: the CSS class suffix for the avatar's colour."""
        try:
            return self.AvatarColor(self.avatar_color).label.lower()
        except ValueError:
            return "grey"


class AccountErasureInProgress(models.Model):
    """Present only inside an account erasure's transaction: the one time the
    database lets that account's consent log be deleted."""

    user_id = models.BigIntegerField(primary_key=True)

    class Meta:
        # The consent log's trigger (privacy migration 0002) names this table.
        db_table = "privacy_accounterasureinprogress"

    def __str__(self) -> str:
        return f"Erasing account {self.user_id}"


class AccessToken(models.Model):
    """A personal access token: how a program (a TV app, a script) signs in.

    The secret is shown once, when made; only its SHA-256 is kept (a token is
    32 random bytes, so a fast hash is as safe as a slow one and costs
    microseconds per request instead of a password hash's 200 ms). ``prefix``
    (the secret's first characters) finds the row and names the token in
    lists without revealing it.

    ``scope``: ``read`` (GET only), ``read-write`` (a viewer's activity) or
    ``account`` (also what the browser asks the account password for on a kids
    profile: settings, exports, erasure, profiles, tokens). ``profile``, when
    set, ties the token to that one profile; a kids profile's token can never
    hold the ``account`` scope.
    """

    PREFIX = "mqt_"

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read-write", "Read and write activity"
        ACCOUNT = "account", "Full account access"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    profile = models.ForeignKey(
        Profile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tokens",
        help_text="Empty: the token may act for every profile of the account.",
    )
    name = models.CharField(max_length=60)
    scope = models.CharField(max_length=10, choices=Scope, default=Scope.READ_WRITE)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > now
        )
