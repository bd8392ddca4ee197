"""The hostile file corpus (hostile.py, made in the test set-up) through the real upload endpoints:
each file is accepted, or refused with its code, a 4xx and the field "file", leaving no blob in
storage and no row. Accepted edge files are extracted and end done or failed with a reason. Files
stored before today's checks are refused again by extraction and previews; a pixel bomb the checks
let through (limit raised) costs one failed task under the memory cap, never the worker."""

import signal

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import previews
from qiyue.documents.extraction import run_extraction, schedule_extraction
from qiyue.documents.models import Document, DocumentVersion, ExtractionStatus

from . import factories as f
from . import files, hostile
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

URL = "/api/v1/documents/"
REFUSED = [case for case in hostile.CORPUS if not case.accepted]
ACCEPTED = [case for case in hostile.CORPUS if case.accepted]


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    """Every file of the corpus, generated once for the module."""
    return {case.id: case.make() for case in hostile.CORPUS}


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="采购合同")


def api_upload(user, contract, name, data):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(URL, {"contract": contract.pk, "kind": "signed", "file": f.upload(name, data)},
                       format="multipart")


def test_the_corpus_covers_every_family():
    families = {case.family for case in hostile.CORPUS}
    assert len(hostile.CORPUS) >= 30 and len({case.id for case in hostile.CORPUS}) == len(hostile.CORPUS)
    assert families == {"type confusion", "polyglot", "macros", "zip", "pixel bomb", "damaged image",
                        "encrypted pdf", "damaged pdf", "benign", "benign edge"}
    assert {case.name.rsplit(".", 1)[1].lower() for case in ACCEPTED} >= {"pdf", "docx", "xlsx", "png", "jpg", "tiff"}


def test_the_handmade_interlaced_png_is_a_real_one():
    """The check of a PNG's data size agrees with Pillow's decoder on an Adam7-interlaced image."""
    import io

    with Image.open(io.BytesIO(hostile.interlaced_png())) as image:
        image.load()
        assert (image.size, image.info.get("interlace")) == ((33, 17), 1)


@pytest.mark.django_db
@pytest.mark.parametrize("case", REFUSED, ids=[case.id for case in REFUSED])
def test_hostile_file_is_refused_through_the_api(users, contract, storage, corpus, case):
    response = api_upload(users["sales"], contract, case.name, corpus[case.id])
    assert response.status_code == case.status, response.content
    body = response.json()
    assert (body["code"], body["field_codes"]) == (case.code, {"file": [case.code]})
    assert body["fields"]["file"][0]  # the reason, in words
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert f.stored_blobs(storage) == []


@pytest.mark.django_db
@pytest.mark.parametrize("case", ACCEPTED, ids=[case.id for case in ACCEPTED])
def test_benign_and_edge_files_are_accepted_and_extracted_cleanly(users, contract, storage, corpus, case,
                                                                  django_capture_on_commit_callbacks):
    response = api_upload(users["sales"], contract, case.name, corpus[case.id])
    assert response.status_code == 201, response.content
    version_id = response.json()["current_version"]["id"]
    assert len(f.stored_blobs(storage)) == 1
    with django_capture_on_commit_callbacks(execute=False):
        status = run_extraction(version_id)  # in the memory-capped child process
    version = DocumentVersion.objects.get(pk=version_id)
    expected_status, _, reason = case.extraction.partition(":")
    assert (status, version.extraction_status) == (expected_status, expected_status), version.extraction_error
    assert version.extraction_error.startswith(f"{reason}:" if reason else "")


UI_CASES = ["jpeg+zip", "docm-renamed", "bomb-lying-size", "png-12000x12000", "html-behind-png-signature"]


@pytest.mark.django_db
@pytest.mark.parametrize("case_id", UI_CASES)
def test_hostile_file_is_refused_by_the_upload_form(client, users, contract, storage, corpus, case_id):
    case = next(case for case in hostile.CORPUS if case.id == case_id)
    client.force_login(users["sales"])
    response = client.post(reverse("documents:contract_upload", args=[contract.pk]),
                           {"kind": "scan", "files": [f.upload(case.name, corpus[case.id])]}, HTTP_HX_REQUEST="true")
    assert response.status_code == case.status
    assert f'data-error-code="{case.code}"' in response.content.decode()
    assert not Document.objects.exists() and f.stored_blobs(storage) == []


@pytest.mark.django_db
def test_the_pixel_limit_is_a_setting_and_its_message_names_it(users, contract, storage, settings):
    settings.QIYUE_MAX_IMAGE_PIXELS = 20_000
    data = hostile.encode(hostile.picture(200, 101), "PNG")  # 20,200 pixels
    response = api_upload(users["sales"], contract, "scan.png", data)
    assert response.status_code == 400 and response.json()["code"] == "image_too_large"
    assert "0.02 million pixels" in response.json()["fields"]["file"][0]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(users["sales"])
    response = client.post(URL, {"contract": contract.pk, "kind": "signed", "file": f.upload("scan.png", data)},
                           format="multipart")
    assert "0.02" in response.json()["message"] and "像素" in response.json()["message"]
    assert api_upload(users["sales"], contract, "scan.png", hostile.encode(hostile.picture(200, 100), "PNG")
                      ).status_code == 201


# --- files stored before the checks: extraction and previews refuse them again ---------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("data", "file_type", "reason"), [
    (hostile.pixel_bomb_png, "png", "too_large: the image has too many pixels (Image size (144000000 pixels) "
                                    "exceeds limit of 100000000 pixels"),
    (lambda: hostile.pixel_bomb_png(8000, 8000), "png",
     "too_large: the image is 8000×8000 pixels, over the limit of 50000000"),
    (hostile.lying_bomb, "docx", "too_large: the DOCX cannot be read safely (zip_bomb: word/media/image1.bin "
                                 "expands past the 4096 bytes its header declares)"),
    (hostile.pdf_with_huge_image, "pdf", "too_large: an image on page 1 is 12000×12000 pixels"),
], ids=["pixel-bomb-png", "png-over-the-limit", "lying-zip-bomb", "pdf-huge-image"])
def test_extraction_refuses_what_was_stored_before_the_checks(users, storage, data, file_type, reason):
    version = files.make_stored_version(users["sales"], data(), file_type)
    assert run_extraction(version.pk) == ExtractionStatus.FAILED
    assert DocumentVersion.objects.get(pk=version.pk).extraction_error.startswith(reason)


@pytest.mark.django_db
def test_previews_refuse_what_was_stored_before_the_checks(client, users, storage):
    bomb = files.make_stored_version(users["sales"], hostile.pixel_bomb_png(), "png")
    client.force_login(users["sales"])
    page = client.get(reverse("documents:preview", args=[bomb.pk])).content.decode()
    assert 'data-testid="preview-unavailable"' in page and 'data-testid="preview-image"' not in page
    token = previews.image_token(user=users["sales"], version=bomb)
    assert client.get(reverse("documents:preview_image", args=[bomb.pk]), {"t": token}).status_code == 404
    pdf = files.make_stored_version(users["sales"], hostile.pdf_with_huge_image(), "pdf")
    token = previews.image_token(user=users["sales"], version=pdf)
    assert client.get(reverse("documents:preview_page", args=[pdf.pk, 1]), {"t": token}).status_code == 404


# --- the worker under the memory cap ---------------------------------------------------------------

@pytest.fixture
def bomb_let_through(settings, monkeypatch):
    """The pixel limits raised out of the way, so that only the memory cap stands between the worker
    and the 12,000 × 12,000 PNG (432 MB of pixels, over 1 GB to OCR)."""
    settings.QIYUE_MAX_IMAGE_PIXELS = 10**9
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    settings.QIYUE_TASK_MEMORY_MB = 256


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_a_pixel_bomb_under_the_memory_cap_and_goes_on(users, storage, bomb_let_through):
    owner = users["sales"]
    bomb = files.make_stored_version(owner, hostile.pixel_bomb_png(), "png")
    after = [files.make_stored_version(owner, f.make_pdf(), "pdf"),
             files.make_stored_version(owner, hostile.docx_with_part("word/embeddings/package.zip", f.make_zip_bomb(),
                                                                     0), "docx")]
    for version in (bomb, *after):
        schedule_extraction(version.pk)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    failed = DocumentVersion.objects.get(pk=bomb.pk)
    assert failed.extraction_status == ExtractionStatus.FAILED
    assert failed.extraction_error == "too_large: the file needs more memory than a task may take (QIYUE_TASK_MEMORY_MB=256)"
    assert [DocumentVersion.objects.get(pk=v.pk).extraction_status for v in after] == [ExtractionStatus.DONE] * 2
