"""``_config``: data centres, environments, base URLs and API versions."""

from __future__ import annotations

import pytest

from zcrm_related_async import AsyncClient, ConfigurationError, RefreshTokenAuth, ZohoError
from zcrm_related_async._config import (
    DATA_CENTERS,
    ENVIRONMENTS,
    VERSIONS,
    check_base_url,
    check_version,
    default_accounts_url,
    resolve_api_domain,
)

API_DOMAINS = {
    "us": "zohoapis.com",
    "eu": "zohoapis.eu",
    "in": "zohoapis.in",
    "au": "zohoapis.com.au",
    "jp": "zohoapis.jp",
    "ca": "zohoapis.ca",
    "sa": "zohoapis.sa",
    "cn": "zohoapis.com.cn",
}
ACCOUNTS = {
    "us": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
    "cn": "https://accounts.zoho.com.cn",
}
PREFIXES = {"production": "www", "sandbox": "sandbox", "developer": "developer"}


def test_every_documented_data_centre_and_environment_is_known() -> None:
    assert set(DATA_CENTERS) == set(API_DOMAINS)
    assert set(ENVIRONMENTS) == set(PREFIXES)


@pytest.mark.parametrize("environment", sorted(PREFIXES))
@pytest.mark.parametrize("data_center", sorted(API_DOMAINS))
def test_api_host_of_each_data_centre_and_environment(data_center: str, environment: str) -> None:
    expected = f"https://{PREFIXES[environment]}.{API_DOMAINS[data_center]}"
    assert resolve_api_domain(None, data_center, environment) == expected


@pytest.mark.parametrize(
    ("data_center", "environment", "url"),
    [
        ("eu", "sandbox", "https://sandbox.zohoapis.eu"),
        ("ca", "production", "https://www.zohoapis.ca"),
        ("us", "production", "https://www.zohoapis.com"),
        ("au", "developer", "https://developer.zohoapis.com.au"),
        ("cn", "sandbox", "https://sandbox.zohoapis.com.cn"),
        ("EU", "production", "https://www.zohoapis.eu"),
    ],
)
def test_api_host_examples(data_center: str, environment: str, url: str) -> None:
    assert resolve_api_domain(None, data_center, environment) == url


@pytest.mark.parametrize(("data_center", "url"), sorted(ACCOUNTS.items()))
def test_accounts_url_of_each_data_centre(data_center: str, url: str) -> None:
    assert default_accounts_url(data_center) == url
    assert default_accounts_url(data_center.upper()) == url


@pytest.mark.parametrize(
    ("api_domain", "expected"),
    [
        ("https://zylkercorp.zohoplatform.com", "https://zylkercorp.zohoplatform.com"),
        ("https://zylkercorp.zohoplatform.com/", "https://zylkercorp.zohoplatform.com"),
        ("https://www.zohoapis.eu//", "https://www.zohoapis.eu"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("http://127.0.0.2:9", "http://127.0.0.2:9"),
        ("http://localhost:5000/", "http://localhost:5000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://10.0.0.5:8443", "https://10.0.0.5:8443"),
    ],
)
def test_custom_api_domain_is_accepted_without_trailing_slash(
    api_domain: str, expected: str
) -> None:
    # a custom domain wins over the data centre, even an unknown one
    assert resolve_api_domain(api_domain, "nowhere", "nowhere") == expected
    assert check_base_url(api_domain, "accounts_url") == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://www.zohoapis.com", "plain http"),
        ("http://10.0.0.5:8080", "plain http"),
        ("http://localhost.example.com", "plain http"),
        ("http://127.0.0.1@evil.example", "plain http"),
        ("ftp://www.zohoapis.com", "http(s) URL"),
        ("www.zohoapis.com", "http(s) URL"),
        ("https://", "http(s) URL"),
        ("https://www.zohoapis.com?x=1", "no query"),
        ("https://www.zohoapis.com/#top", "no query"),
        ("", "expected a URL"),
    ],
)
def test_bad_base_url_is_refused(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^api_domain: ") as caught:
        check_base_url(url, "api_domain")
    assert says in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.evil.example:8080", "http://127.0.0.1.evil.example"])
def test_token_is_never_sent_over_plain_http_to_a_name_that_merely_starts_with_127(
    url: str,
) -> None:
    # "127.evil.example" is a DNS name, not a loopback address: it may resolve anywhere.
    with pytest.raises(ConfigurationError, match="plain http"):
        resolve_api_domain(url, "us", "production")


@pytest.mark.parametrize(
    ("data_center", "environment", "field"),
    [
        ("uk", "production", "data_center"),
        ("", "production", "data_center"),
        ("zohoapis.com", "production", "data_center"),
        (None, "production", "data_center"),
        ("us", "staging", "environment"),
        ("us", "", "environment"),
    ],
)
def test_unknown_data_centre_or_environment(data_center: str, environment: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{field}: unknown") as caught:
        resolve_api_domain(None, data_center, environment)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ZohoError)


@pytest.mark.parametrize("data_center", ["uk", "", None])
def test_unknown_data_centre_has_no_accounts_url(data_center: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^data_center: "):
        default_accounts_url(data_center)


@pytest.mark.parametrize("version", ["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"])
def test_supported_versions(version: str) -> None:
    assert check_version(version) == version


def test_the_versions_are_the_ones_the_docstring_names() -> None:
    # Zoho's CRM API has exactly these (https://www.zoho.com/crm/developer/docs/api/).
    assert VERSIONS == ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8")
    assert AsyncClient.__doc__ is not None
    assert f"``version`` is one of {', '.join(VERSIONS)}." in " ".join(AsyncClient.__doc__.split())


@pytest.mark.parametrize(
    "version",
    [
        *["v1", "v0", "v1.5", "x", "", "8", "V8", "v", "v8.", "v8 ", "v2.1.1", 8, None, 2.1],
        *["v9", "v10", "v8.0", "v3.1", "v2.2", "v02"],
    ],
)
def test_bad_versions_are_refused(version: object) -> None:
    with pytest.raises(ConfigurationError, match=r"^version: ") as caught:
        check_version(version)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert "v2, v2.1, v3, v4, v5, v6, v7, v8" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.zohoapis.com/crm/v8",
        "https://www.zohoapis.com/crm/v8/",
        "https://www.zohoapis.com/crm",
        "http://127.0.0.1:8000/crm/v8/Leads",
        "https://zylkercorp.zohoplatform.com/x",
    ],
)
def test_api_domain_with_a_path_is_refused_and_says_give_the_host_only(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^api_domain: give the host only") as caught:
        resolve_api_domain(url, "us", "production")
    host = url.split("/crm")[0].removesuffix("/x")
    assert repr(host) in str(caught.value)
    assert "/crm/{version}" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["https://accounts.zoho.com/oauth/v2/token", "https://accounts.zoho.eu/oauth"]
)
def test_accounts_url_with_a_path_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^accounts_url: give the host only") as caught:
        check_base_url(url, "accounts_url")
    assert "/oauth/v2/token" in str(caught.value)


async def test_client_refuses_an_api_domain_with_a_path_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match=r"^api_domain: give the host only"):
        AsyncClient(api_domain="https://www.zohoapis.com/crm/v8", access_token="t")
    with pytest.raises(ConfigurationError, match=r"^accounts_url: give the host only"):
        AsyncClient(access_token="t", accounts_url="https://accounts.zoho.com/oauth/v2/token")
    with pytest.raises(ConfigurationError, match=r"^accounts_url: give the host only"):
        RefreshTokenAuth("id", "secret", "refresh", "https://accounts.zoho.com/oauth/v2/token")
