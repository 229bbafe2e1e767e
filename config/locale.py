"""The language of a request: the site's from its address, the API's from the client.

Django's `LocaleMiddleware` with `i18n_patterns(prefix_default_language=False)` gives every
unprefixed address the default language — right for the site (`/dogs/` is English, `/ja/dogs/`
Japanese) but not for the API, whose addresses carry no language: a Japanese frontend sending
`Accept-Language: ja` got English error messages. Under `/api/` the client's Accept-Language
(then the default) is the language; the pages endpoints still serve a page in the language asked
for (`cms.api.languages`), with that language active while it is resolved."""

from __future__ import annotations

from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"


class SiteAndApiLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return super().process_request(request)
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        if not request.path_info.startswith(API_PREFIX):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
