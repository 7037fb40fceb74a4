from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("welcome/", views.onboarding, name="onboarding"),
    path("welcome/picks/", views.onboarding_pick, name="onboarding_pick"),
    path("welcome/done/", views.onboarding_done, name="onboarding_done"),
    path("titles/<int:pk>/", views.title_detail, name="title"),
    path("titles/<int:pk>/poster.svg", views.poster, name="poster"),
    path("genres/", views.genre_list, name="genres"),
    path("genres/<slug:slug>/", views.genre_detail, name="genre"),
    path("search/", views.search, name="search"),
]
