from django.urls import path

from activity import views

app_name = "activity"
urlpatterns = [
    path("titles/<int:pk>/actions/", views.title_actions, name="title_actions"),
    path("titles/<int:pk>/rate/", views.title_rate, name="rate"),
    path("titles/<int:pk>/thumbs/", views.title_thumbs, name="thumbs"),
    path(
        "titles/<int:pk>/not-interested/",
        views.title_not_interested,
        name="not_interested",
    ),
    path(
        "titles/<int:pk>/show-fewer/",
        views.title_show_fewer,
        name="show_fewer",
    ),
    path("titles/<int:pk>/my-list/", views.title_my_list, name="title_my_list"),
    path("titles/<int:pk>/play/", views.play, name="play"),
    path(
        "titles/<int:pk>/play/unkept-heartbeat/",
        views.unkept_heartbeat,
        name="unkept_heartbeat",
    ),
    path(
        "viewings/<int:viewing_id>/heartbeat/",
        views.viewing_heartbeat,
        name="heartbeat",
    ),
    path("my-list/", views.my_list, name="my_list"),
    path("my-list/<int:item_id>/remove/", views.my_list_remove, name="my_list_remove"),
    path("continue-watching/", views.continue_watching, name="continue_watching"),
    path(
        "continue-watching/<int:viewing_id>/remove/",
        views.continue_watching_remove,
        name="continue_watching_remove",
    ),
    path("ratings/", views.ratings, name="ratings"),
    path("history/", views.history, name="history"),
]
