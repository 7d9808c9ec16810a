from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "商城"
