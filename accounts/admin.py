from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Profile, User


class ProfileInline(admin.TabularInline):
    model = Profile
    extra = 0
    fields = ["name", "is_kids", "avatar_color", "created_at"]


class UserChangeFormByEmail(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserCreationFormByEmail(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["email"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeFormByEmail
    add_form = UserCreationFormByEmail
    ordering = ["email"]
    list_display = ["email", "source", "is_staff", "is_active", "date_joined"]
    list_filter = ["source", "is_staff", "is_superuser", "is_active"]
    search_fields = ["email"]
    inlines = [ProfileInline]

    fieldsets = [
        (None, {"fields": ["email", "password", "source"]}),
        (
            "Permissions",
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "usable_password", "password1", "password2"],
            },
        ),
    ]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "is_kids", "created_at"]
    list_filter = ["is_kids"]
    search_fields = ["name", "user__email"]
    raw_id_fields = ["user"]
