import factory

from members.models import MemberProfile, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    name = factory.Faker("name", locale="zh_CN")
    password = factory.PostGenerationMethodCall("set_password", "correct horse 42")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class StaffFactory(UserFactory):
    is_staff = True


class MemberProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberProfile

    user = factory.SubFactory(UserFactory)
