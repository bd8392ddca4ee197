"""A generated corpus of contract clause text (Chinese with English, brand names and numbers) and
helpers that put documents on contracts without the upload pipeline."""

import random
import uuid

from qiyue.documents.models import Document, DocumentText, DocumentVersion

WORDS = [
    "北京", "北京市", "上海", "上海市", "市政", "政府", "采购", "合同", "甲方", "乙方", "丙方", "付款", "验收",
    "违约", "违约金", "保密", "知识产权", "不可抗力", "争议", "仲裁", "人民法院", "有限公司", "股份", "科技",
    "设备", "安装", "调试", "维护", "服务", "期限", "生效", "终止", "解除", "通知", "书面", "发票", "税率",
    "增值税", "人民币", "元整", "交付", "运输", "风险", "保险", "质保", "质量", "标准", "国家", "行业",
    "飞鹭达", "云峤", "星澜", "华信", "明德", "恒通", "深圳", "南京", "京东", "东方", "方面", "面积", "市场",
]
ENGLISH = ["Warranty", "payment", "Delivery", "ISO9001", "force", "majeure", "Party", "confidential",
           "invoice", "USB", "API", "SLA", "ＦＵＬＬ", "Ｗｉｄｅ"]
PUNCT = ["，", "。", "、", "；", "：", " ", "（", "）", "\n", "“", "”"]


def clause(rng: random.Random, words: int = 30) -> str:
    out = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.7:
            out.append(rng.choice(WORDS))
        elif roll < 0.82:
            out.append(rng.choice(ENGLISH) + rng.choice(["", " "]))
        elif roll < 0.9:
            out.append(str(rng.choice([2026, 30, 15, 100, 12, 2025, 5])) + rng.choice(["年", "日", "%", " ", "个"]))
        else:
            out.append(rng.choice(PUNCT))
    return "".join(out)


def text_of(rng: random.Random, chars: int) -> str:
    parts = []
    total = 0
    while total < chars:
        part = clause(rng, rng.randint(5, 40))
        parts.append(part)
        total += len(part)
    return "".join(parts)


def make_document(*, owner, contract=None, customer=None, text: str, title: str = "合同正文.docx",
                  pages: list[int] | None = None) -> Document:
    customer = customer or contract.customer
    document = Document.objects.create(contract=contract, customer=customer, title=title, created_by=owner)
    version = add_version(document, owner=owner, text=text, pages=pages)
    document.current_version = version
    document.save(update_fields=["current_version"])
    return document


def add_version(document, *, owner, text: str, pages: list[int] | None = None) -> DocumentVersion:
    number = document.versions.count() + 1
    # The file type follows the title's extension ("合同.pdf"): it decides whether hits show a page.
    suffix = document.title.rpartition(".")[2].lower()
    version = DocumentVersion.objects.create(
        document=document, number=number, filename=document.title,
        file_type=suffix if suffix in ("pdf", "docx", "xlsx", "png", "jpeg", "tiff") else "docx",
        content_type="application/octet-stream", size=len(text), sha256="0" * 64,
        blob_name=uuid.uuid4().hex, key_id="k", wrapped_key=b"k", uploaded_by=owner, extraction_status="done")
    DocumentText.objects.create(version=version, text=text, pages=pages or [0])
    return version
