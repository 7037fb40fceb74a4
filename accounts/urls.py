"""Account pages under ``/accounts/`` and the profile pages under ``/profiles/``."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views
from accounts.access import account_password_required
from accounts.forms import EmailAuthenticationForm, PasswordResetRequestForm
from accounts.throttle import by_ip, by_posted_email, throttle

app_name = "accounts"
urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/confirm-password/",
        views.confirm_password,
        name="confirm_password",
    ),
    path(
        "accounts/password/change/",
        account_password_required(
            auth_views.PasswordChangeView.as_view(
                template_name="accounts/password_change_form.html",
                success_url=reverse_lazy("accounts:password_change_done"),
            )
        ),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        throttle("password-reset-ip", key=by_ip)(
            throttle("password-reset-email", key=by_posted_email)(
                auth_views.PasswordResetView.as_view(
                    template_name="accounts/password_reset_form.html",
                    form_class=PasswordResetRequestForm,
                    success_url=reverse_lazy("accounts:password_reset_done"),
                )
            )
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.ResetPasswordConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path(
        "accounts/tokens/<int:token_id>/revoke/",
        views.token_revoke,
        name="token_revoke",
    ),
    path("profiles/", views.profile_picker, name="profile_picker"),
    path("profiles/manage/", views.profile_manage, name="profile_manage"),
    path("profiles/new/", views.profile_create, name="profile_create"),
    path(
        "profiles/<int:profile_id>/choose/",
        views.profile_choose,
        name="profile_choose",
    ),
    path(
        "profiles/<int:profile_id>/edit/",
        views.profile_update,
        name="profile_update",
    ),
]
