from django.urls import path

from . import views

app_name = "redpackets"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("grants/<int:pk>/claim/", views.claim, name="claim"),
]
