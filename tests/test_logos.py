"""A business's logo is fetched once, when it is set, and only from where it may be: the
merchant's URL must not make this server call into its own network or stall."""

from __future__ import annotations

import gzip
from io import BytesIO
from typing import Any

import httpx
import pytest
from PIL import Image

from portal_gateway.core.errors import InvalidInputError
from portal_gateway.services.logos import MAX_BYTES, LogoFetcher
from tests.api import PUBLIC_ADDRESS, logo_png, web_of_logos


def _resolving_to(*addresses: str) -> LogoFetcher:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request may be made, yet {request.url} was")

    return LogoFetcher(resolver=resolve, transport=httpx.MockTransport(never))


async def _refusal(fetcher: LogoFetcher, url: str) -> str:
    with pytest.raises(InvalidInputError) as refused:
        await fetcher.fetch(url)
    assert refused.value.field == "logoUrl"
    return refused.value.message


# Addresses to refuse (not to bind to: hence the noqa).
UNSPECIFIED = "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     UNSPECIFIED, "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1",
     # IPv6 forms that carry a private IPv4 address to a translator or a tunnel
     "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b:1::a00:1", "2002:a00:1::1",
     "2001:0:a00:1::1", "::a9fe:a9fe", "::ffff:0:a9fe:a9fe"],
)  # fmt: skip
async def test_a_host_with_a_private_address_is_never_called(address: str) -> None:
    message = await _refusal(_resolving_to(address), "https://logo.shop.example/logo.png")
    assert "public address" in message


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    fetcher = _resolving_to(PUBLIC_ADDRESS, "10.0.0.7")
    assert "public address" in await _refusal(fetcher, "https://rebind.example/logo.png")


async def test_only_https_is_fetched() -> None:
    message = await _refusal(web_of_logos(), "http://cdn.shop.example/logo.png")
    assert "https" in message


async def test_the_checked_address_is_the_one_called_under_the_host_s_name() -> None:
    seen: list[httpx.Request] = []
    fetched = await web_of_logos(seen=seen).fetch("https://cdn.shop.example:8443/a/logo.png?v=2")
    [request] = seen
    assert (request.url.host, request.url.port) == (PUBLIC_ADDRESS, 8443)
    assert request.url.raw_path == b"/a/logo.png?v=2"
    assert request.headers["host"] == "cdn.shop.example:8443"
    assert request.extensions["sni_hostname"] == "cdn.shop.example"
    with Image.open(BytesIO(fetched.png)) as image:
        assert (image.format, image.size) == ("PNG", (64, 32))


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (httpx.Response(302, headers={"Location": "https://10.0.0.1/x.png"}), "HTTP 302"),
        (httpx.Response(404), "HTTP 404"),
        (httpx.Response(200, content=b"<svg/>", headers={"Content-Type": "text/html"}),
         "not an image"),
        (httpx.Response(200, content=b"GIF89a-not-really", headers={"Content-Type": "image/gif"}),
         "can be read"),
        (httpx.Response(200, content=b"\0" * (MAX_BYTES + 1),
                        headers={"Content-Type": "image/png"}), "larger than"),
    ],
)  # fmt: skip
async def test_what_is_not_a_small_image_is_refused(response: httpx.Response, why: str) -> None:
    fetcher = web_of_logos({"/logo.png": response})
    assert why in await _refusal(fetcher, "https://cdn.shop.example/logo.png")


async def test_a_body_of_no_declared_length_is_cut_off_at_the_cap() -> None:
    chunk = b"\x89PNG" + b"\0" * (64 * 1024 - 4)

    async def endless() -> Any:
        for _ in range(MAX_BYTES // len(chunk) + 2):
            yield chunk

    streamed = web_of_logos({"/logo.png": httpx.Response(
        200, content=endless(), headers={"Content-Type": "image/png"})})  # fmt: skip
    assert "larger than" in await _refusal(streamed, "https://cdn.shop.example/logo.png")


async def test_a_compressed_body_is_refused_before_it_is_inflated() -> None:
    gzipped = web_of_logos({"/logo.png": httpx.Response(
        200, content=gzip.compress(b"\0" * 1024),
        headers={"Content-Type": "image/png", "Content-Encoding": "gzip"})})  # fmt: skip
    assert "compressed" in await _refusal(gzipped, "https://cdn.shop.example/logo.png")
    seen: list[httpx.Request] = []
    await web_of_logos(seen=seen).fetch("https://cdn.shop.example/logo.png")
    assert seen[0].headers["accept-encoding"] == "identity"


async def test_a_huge_image_is_refused_and_a_large_one_made_small() -> None:
    big = web_of_logos(
        {
            "/big.png": httpx.Response(
                200, content=logo_png(size=(5000, 4000)), headers={"Content-Type": "image/png"}
            )
        }
    )
    assert "too many pixels" in await _refusal(big, "https://cdn.shop.example/big.png")
    wide = web_of_logos(
        {
            "/wide.png": httpx.Response(
                200, content=logo_png(size=(2400, 600)), headers={"Content-Type": "image/png"}
            )
        }
    )
    fetched = await wide.fetch("https://cdn.shop.example/wide.png")
    with Image.open(BytesIO(fetched.png)) as image:
        assert image.size == (800, 200)


async def test_a_host_that_does_not_answer_in_time_is_given_up() -> None:
    import asyncio

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC_ADDRESS]

    fetcher = LogoFetcher(resolver=resolve, transport=httpx.MockTransport(slow),
                          timeout_seconds=0.05)  # fmt: skip
    assert "did not answer" in await _refusal(fetcher, "https://slow.example/logo.png")


async def test_a_phone_s_jpeg_is_taken_upright() -> None:
    """Phones write MPO JPEGs with the turn in EXIF: the logo is kept as it is meant."""
    photo = BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    Image.new("RGB", (40, 20), (10, 120, 200)).save(photo, format="MPO", exif=exif)
    fetched = await web_of_logos({"/photo.jpg": httpx.Response(
        200, content=photo.getvalue(), headers={"Content-Type": "image/jpeg"})}
    ).fetch("https://cdn.shop.example/photo.jpg")  # fmt: skip
    with Image.open(BytesIO(fetched.png)) as image:
        assert (image.format, image.size) == ("PNG", (20, 40))
