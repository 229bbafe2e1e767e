"""Fixed vocabularies for member attributes: the values segments compare against."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NONBINARY = "nonbinary", _("Non-binary")
    UNSPECIFIED = "unspecified", _("Prefer not to say")


class Occupation(models.TextChoices):
    OFFICE_WORKER = "office_worker", _("Office worker")
    PUBLIC_SERVANT = "public_servant", _("Public servant")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    PART_TIME = "part_time", _("Part-time worker")
    HOMEMAKER = "homemaker", _("Homemaker")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")
    OTHER = "other", _("Other")
    UNSPECIFIED = "unspecified", _("Prefer not to say")


class Tier(models.TextChoices):
    REGULAR = "regular", _("Regular")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class PetType(models.TextChoices):
    NONE = "none", _("No pet")
    DOG = "dog", _("Dog")
    CAT = "cat", _("Cat")
    OTHER = "other", _("Other")


class Region(models.TextChoices):
    """The 47 prefectures of Japan, in JIS X 0401 order, plus overseas."""

    HOKKAIDO = "hokkaido", _("Hokkaido")
    AOMORI = "aomori", _("Aomori")
    IWATE = "iwate", _("Iwate")
    MIYAGI = "miyagi", _("Miyagi")
    AKITA = "akita", _("Akita")
    YAMAGATA = "yamagata", _("Yamagata")
    FUKUSHIMA = "fukushima", _("Fukushima")
    IBARAKI = "ibaraki", _("Ibaraki")
    TOCHIGI = "tochigi", _("Tochigi")
    GUNMA = "gunma", _("Gunma")
    SAITAMA = "saitama", _("Saitama")
    CHIBA = "chiba", _("Chiba")
    TOKYO = "tokyo", _("Tokyo")
    KANAGAWA = "kanagawa", _("Kanagawa")
    NIIGATA = "niigata", _("Niigata")
    TOYAMA = "toyama", _("Toyama")
    ISHIKAWA = "ishikawa", _("Ishikawa")
    FUKUI = "fukui", _("Fukui")
    YAMANASHI = "yamanashi", _("Yamanashi")
    NAGANO = "nagano", _("Nagano")
    GIFU = "gifu", _("Gifu")
    SHIZUOKA = "shizuoka", _("Shizuoka")
    AICHI = "aichi", _("Aichi")
    MIE = "mie", _("Mie")
    SHIGA = "shiga", _("Shiga")
    KYOTO = "kyoto", _("Kyoto")
    OSAKA = "osaka", _("Osaka")
    HYOGO = "hyogo", _("Hyogo")
    NARA = "nara", _("Nara")
    WAKAYAMA = "wakayama", _("Wakayama")
    TOTTORI = "tottori", _("Tottori")
    SHIMANE = "shimane", _("Shimane")
    OKAYAMA = "okayama", _("Okayama")
    HIROSHIMA = "hiroshima", _("Hiroshima")
    YAMAGUCHI = "yamaguchi", _("Yamaguchi")
    TOKUSHIMA = "tokushima", _("Tokushima")
    KAGAWA = "kagawa", _("Kagawa")
    EHIME = "ehime", _("Ehime")
    KOCHI = "kochi", _("Kochi")
    FUKUOKA = "fukuoka", _("Fukuoka")
    SAGA = "saga", _("Saga")
    NAGASAKI = "nagasaki", _("Nagasaki")
    KUMAMOTO = "kumamoto", _("Kumamoto")
    OITA = "oita", _("Oita")
    MIYAZAKI = "miyazaki", _("Miyazaki")
    KAGOSHIMA = "kagoshima", _("Kagoshima")
    OKINAWA = "okinawa", _("Okinawa")
    OVERSEAS = "overseas", _("Overseas")
