"""A business's logo, fetched once when it is set and kept as PNG bytes for its invoices.

The URL is a merchant's: left unchecked, it would make this server call into its own
network (a cloud's metadata address, an admin port on loopback) or stall on a slow host.
So: https only; the host's every address must be public, and the request goes to the
address that was checked (no second lookup that could answer differently); no redirects;
a time limit and a size cap; and the bytes must decode as an image, which is then drawn
again as a plain PNG, so nothing of the original file but its pixels is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit, urlunsplit

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from portal_gateway.core.errors import InvalidInputError

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
# Drawn on an A4 invoice at most ~60 mm wide: more pixels only make the PDF heavier.
MAX_SIDE = 800
# The formats Pillow may try (the JPEG reader also opens MPO, the JPEGs phones write).
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Where a public IPv6 address may be (global unicast), less the ranges that carry an IPv4
# address to a translator or a tunnel (6to4, Teredo, NAT64 are outside it already).
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
TUNNELS = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"))
FIELD = "logoUrl"

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host name has, as the system resolves it."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class FetchedLogo:
    png: bytes
    sha256: str


class LogoFetcher:
    """Fetches a logo over https from a public address. `transport` and `resolver` are the
    network: tests give their own, so that nothing leaves the machine."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._resolver = resolver
        self._transport = transport
        self._timeout = timeout_seconds

    async def fetch(self, url: str) -> FetchedLogo:
        """The logo at `url` as PNG, or InvalidInputError on logoUrl saying why not."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _refused("must be an https URL: the logo is fetched once, for invoices.")
        port = parts.port or 443
        try:
            # One limit for the lookup and the download: a slow name server counts too.
            async with asyncio.timeout(self._timeout):
                address = await self._public_address(parts.hostname, port)
                host_in_url = f"[{address}]" if ":" in address else address
                target = urlunsplit(
                    ("https", f"{host_in_url}:{port}", parts.path or "/", parts.query, "")
                )
                body = await self._download(target, parts.netloc, parts.hostname)
        except TimeoutError:
            raise _refused(f"did not answer within {self._timeout:g} seconds.") from None
        except httpx.HTTPError:
            raise _refused("could not be fetched.") from None
        png = _as_png(body)
        return FetchedLogo(png=png, sha256=hashlib.sha256(png).hexdigest())

    async def _public_address(self, host: str, port: int) -> str:
        try:
            addresses = await self._resolver(host, port)
        except OSError:
            addresses = []
        if not addresses:
            raise _refused("names a host that does not resolve.")
        for address in addresses:
            if not _is_public(address):
                raise _refused("must point at a public address.")
        return addresses[0]

    async def _download(self, target: str, netloc: str, host: str) -> bytes:
        async with (
            httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, trust_env=False
            ) as client,
            client.stream(
                "GET",
                target,
                headers={
                    "Host": netloc,
                    "Accept": "image/png, image/jpeg, image/*;q=0.8",
                    # Counted as it arrives: a compressed body would be inflated first.
                    "Accept-Encoding": "identity",
                },
                extensions={"sni_hostname": host},
            ) as response,
        ):
            if response.status_code != 200:
                raise _refused(f"answered HTTP {response.status_code}; give the image's own URL.")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise _refused("was sent compressed; serve the image as it is.")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise _refused("is not an image.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise _refused(f"is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise _refused(f"is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            return bytes(body)


def _is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip not in GLOBAL_UNICAST or any(ip in tunnel for tunnel in TUNNELS):
            return False
    return ip.is_global and not ip.is_multicast


def _as_png(body: bytes) -> bytes:
    """The image drawn again as a plain PNG no larger than MAX_SIDE a side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(body), formats=FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _refused("has too many pixels (at most 4096 x 4096).")
                image.load()
                # Upright as the camera meant it; the first frame of an animation.
                converted = (ImageOps.exif_transpose(image) or image).convert("RGBA")
    except (
        UnidentifiedImageError,  # also what a format outside FORMATS gives
        OSError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise _refused("is not an image that can be read.") from None
    converted.thumbnail((MAX_SIDE, MAX_SIDE))
    out = BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue()


def _refused(why: str) -> InvalidInputError:
    return InvalidInputError(f"The logo URL {why}", field=FIELD, code="LOGO_NOT_USABLE")
