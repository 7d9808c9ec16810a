from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("packages/<int:pk>/", views.package_detail, name="package"),
    path("packages/<int:pk>/book/", views.book, name="book"),
    path("mine/", views.my_bookings, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/action/", views.act, name="act"),
    path("manage/", views.manage_list, name="manage_list"),
    path("manage/<int:pk>/", views.manage, name="manage"),
    path("photos/<str:token>/", views.photo, name="photo"),
]
