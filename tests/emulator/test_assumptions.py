"""Behaviours neither the documents nor the field settle, chosen by the emulator: one test
per row of `docs/live-stores.md` whose source is "assumption"."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import aiohttp
import pytest

from storepush._samples import make_aab, make_apk, make_jar, make_png
from storepush.emulator import Emulator, Quirks

from .conftest import KEY, apk_form, releases, send


async def upload(
    http: aiohttp.ClientSession, emu: Emulator, apk: Path, architecture: str = "all"
) -> tuple[int, dict[str, object]]:
    return await send(http, "POST", releases(emu) + "/upload/", data=apk_form(apk, architecture))


async def commit(http: aiohttp.ClientSession, emu: Emulator, *apks: tuple[Path, str]) -> None:
    assert (await send(http, "POST", releases(emu) + "/"))[0] == 201
    for apk, architecture in apks:
        status, body = await upload(http, emu, apk, architecture)
        assert status == 200, body
    assert (await send(http, "POST", releases(emu) + "/commit/", json={}))[0] == 200


def apk(tmp_path: Path, code: int, abis: tuple[str, ...] = ("arm64-v8a",), seed: int = 0) -> Path:
    return make_apk(
        tmp_path / f"{code}-{'-'.join(abis)}-{seed}.apk",
        package="com.example.one",
        version_code=code,
        abis=abis,
        seed=seed or code,
    )


async def test_p14_version_codes_per_architecture(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """P14: above what is committed for the same architecture; per-ABI offsets keep working;
    `all` meets everything; a rebuild or an older job is refused, naming the code there."""
    await commit(
        http,
        emu,
        (apk(tmp_path, 2005, ("arm64-v8a",)), "arm64-v8a"),
        (apk(tmp_path, 1005, ("armeabi-v7a",)), "armeabi-v7a"),
    )
    await send(http, "POST", releases(emu) + "/")
    # committed, not yet published: already counts
    status, body = await upload(
        http, emu, apk(tmp_path, 2005, ("arm64-v8a",), seed=99), "arm64-v8a"
    )
    assert (status, body["type"]) == (400, "bad_request")
    assert "version code 2005" in str(body["message"])
    status, body = await upload(http, emu, apk(tmp_path, 1006, ()))  # no native code: `all`
    assert status == 400
    assert "greater than 2005" in str(body["message"])
    assert "arm64-v8a" in str(body["message"])
    assert (await upload(http, emu, apk(tmp_path, 2006, ("arm64-v8a",)), "arm64-v8a"))[0] == 200
    assert (await upload(http, emu, apk(tmp_path, 1006, ("armeabi-v7a",)), "armeabi-v7a"))[0] == 200


async def test_p14_the_architecture_is_the_files_not_the_form(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """P14: the rule reads the APK's lib/<abi>/ folders, whatever the form says."""
    await commit(http, emu, (apk(tmp_path, 10, ("arm64-v8a",)), "all"))
    await send(http, "POST", releases(emu) + "/")
    status, _ = await upload(http, emu, apk(tmp_path, 5, ("x86",)), "arm64-v8a")
    assert status == 200  # x86 does not meet arm64, whatever the form field claims


async def test_p15_same_version_code_twice_in_a_draft(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """P15: one draft, two packages with one version code (even for other ABIs)."""
    await send(http, "POST", releases(emu) + "/")
    assert (await upload(http, emu, apk(tmp_path, 7, ("arm64-v8a",))))[0] == 200
    assert await upload(http, emu, apk(tmp_path, 7, ("x86",))) == (
        400,
        {
            "type": "bad_request",
            "message": "A package with version code 7 is already in the release.",
        },
    )


@pytest.mark.parametrize(
    ("abis", "label"),
    [
        ((), "all"),
        (("arm64-v8a",), "arm64-v8a"),
        (("armeabi-v7a", "arm64-v8a"), "arm64-v8a,armeabi-v7a"),
    ],
)
async def test_p16_cpu_architectures(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path, abis: tuple[str, ...], label: str
) -> None:
    """P16: cpu_architectures from the APK's native folders, not from the form."""
    await send(http, "POST", releases(emu) + "/")
    status, body = await upload(http, emu, apk(tmp_path, 3, abis), "all")
    assert status == 200
    assert body["package"]["cpu_architectures"] == label  # type: ignore[index]


async def test_p17_not_an_apk_or_another_package(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """P17: not a zip; a zip without AndroidManifest.xml; an APK of another package."""
    await send(http, "POST", releases(emu) + "/")
    text = tmp_path / "text.apk"
    text.write_text("not a zip")
    assert await upload(http, emu, text) == (
        400,
        {"type": "bad_request", "message": "The uploaded file is not a valid APK."},
    )
    plain = tmp_path / "plain.apk"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("classes.dex", b"dex")
    status, body = await upload(http, emu, plain)
    assert (status, body["message"]) == (
        400,
        "The uploaded file is not a valid APK: it has no AndroidManifest.xml.",
    )
    other = make_apk(tmp_path / "other.apk", package="com.other", version_code=9)
    status, body = await upload(http, emu, other)
    assert status == 400
    assert "does not match this app (com.example.one)" in str(body["message"])


@pytest.mark.parametrize("kind", ["text", "zip", "apk"])
async def test_p21_not_a_bundle(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path, kind: str
) -> None:
    """P21: an .aab that is not a bundle is refused, not accepted with a warning."""
    path = tmp_path / "x.aab"
    if kind == "text":
        path.write_text("not a zip")
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("BundleConfig.pb", b"")
    else:
        make_apk(path, package="com.example.one")
    await send(http, "POST", releases(emu) + "/")
    form = aiohttp.FormData()
    form.add_field("aab", path.read_bytes(), filename="x.aab")
    status, body = await send(http, "POST", releases(emu) + "/upload-aab/", data=form)
    assert (status, body["type"]) == (400, "bad_request")
    assert "base/manifest/AndroidManifest.xml" in str(body["message"])
    assert emu.world.apps[next(iter(emu.world.apps))].bundle is None
    good = make_aab(tmp_path / "good.aab", package="com.example.one")
    form = aiohttp.FormData()
    form.add_field("aab", io.BytesIO(good.read_bytes()), filename="good.aab")
    assert (await send(http, "POST", releases(emu) + "/upload-aab/", data=form))[0] == 200


SPEC = {
    "name": "P",
    "shortdesc": "s",
    "description": "d",
    "license": "MIT",
    "installation_instructions": "i",
}


def form(doc: dict[str, object], *files: tuple[str, Path]) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("json", json.dumps({"api_key": KEY, **doc}))
    for name, path in files:
        data.add_field(name, path.read_bytes(), filename=path.name)
    return data


async def test_b8_success_statuses_and_plugin_schema(
    emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """B8: 201 with JSON on POST, 200 with JSON on GET; the assumed plugin schema."""
    api = emu.bluemind_url + "/addons/api"
    async with http.post(api + "/plugins/", data=form(SPEC)) as r:
        assert r.status == 201
        plugin = await r.json()
    assert set(plugin) == {
        "id", "name", "owner", "shortdesc", "description", "license", "installation_instructions",
        "home_url", "published", "current_version", "thumbnail", "screenshots", "versions",
    }  # fmt: skip
    version = {
        "plugin_name": "P",
        "version": "1.0",
        "target_bm_versions": "4.x",
        "release_notes": "n",
    }
    async with http.post(
        api + "/plugin_version/", data=form(version, ("package", make_jar(tmp_path / "p.jar")))
    ) as r:
        assert r.status == 201
        assert {"plugin", "name", "version", "sha1", "size"} <= set(await r.json())
    async with http.get(f"{api}/plugin/{plugin['id']}/", headers={"api-key": KEY}) as r:
        assert r.status == 200
        assert (await r.json())["current_version"] == "1.0"


async def test_b9_images_only(emu: Emulator, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    """B9: the thumbnail and screenshots must be images (PNG, JPEG, GIF, WebP)."""
    api = emu.bluemind_url + "/addons/api"
    text = tmp_path / "fake.png"
    text.write_text("not an image")
    for name in ("thumbnail", "screenshot"):
        async with http.post(api + "/plugins/", data=form(SPEC, (name, text))) as r:
            assert (r.status, await r.json()) == (
                400,
                {"detail": f"The file {name} is not an image."},
            )
    async with http.post(
        api + "/plugins/", data=form(SPEC, ("thumbnail", make_png(tmp_path / "a.png")))
    ) as r:
        assert r.status == 201


@pytest.mark.parametrize(
    ("quirks", "redirected"), [(Quirks(), True), (Quirks.profile("lenient"), False)]
)
@pytest.mark.parametrize(
    "path", ["/addons/api/plugins", "/addons/api/plugin_version", "//addons/api/plugins/"]
)
async def test_b6_slashless_post(
    emu: Emulator, http: aiohttp.ClientSession, quirks: Quirks, redirected: bool, path: str
) -> None:
    """B6: a POST without its slash: 301 as production Django (strict), or served (lenient)."""
    emu.set_quirks(quirks)
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("json", json.dumps({"api_key": KEY}))
    async with http.post(emu.url + path, data=data, allow_redirects=False) as r:
        if redirected:
            assert r.status == 301
            assert r.headers["Location"].endswith("/")
            assert "//" not in r.headers["Location"]
        else:
            assert r.status == 400  # served: the form is checked (its fields are missing)
            assert "required" in (await r.json())["detail"]
