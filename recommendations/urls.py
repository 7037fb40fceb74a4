from django.urls import path

from recommendations import views

app_name = "recommendations"
urlpatterns = [
    path("", views.home, name="home"),
    path("why/<int:pk>/", views.why, name="why"),
    path(
        "titles/<int:pk>/more-like-this/", views.more_like_this, name="more_like_this"
    ),
    path("seeds/<int:pk>/exclude/", views.seed_exclude, name="seed_exclude"),
    path("seeds/<int:pk>/restore/", views.seed_restore, name="seed_restore"),
]
