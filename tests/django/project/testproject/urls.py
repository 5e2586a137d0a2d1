from django.urls import path
from shop import views

urlpatterns = [
    path("add/<int:a>/<int:b>", views.enqueue_add),
    path("results/<str:result_id>", views.show_result),
]
