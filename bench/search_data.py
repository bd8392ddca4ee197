"""Document texts for the search benchmark: bulk-inserts N documents of generated Chinese and
English contract clauses on existing contracts, like real contracts:

- a share of them (BENCH_LONG_SHARE, default 0.05) are 2–60 pages long (BENCH_PAGES="2-60",
  log-uniform, 2,000 characters a page), so the index cuts them into chunks; the others are one page
  of about 1,500 characters;
- terms of every frequency: clause words (frequent), single characters, English words and phrases,
  rare terms planted in 1–9 documents, and in long documents two marker words far apart (the
  cross-chunk AND) and a phrase over the first chunk border;
- different ages (created over five years), and a share (BENCH_VERSIONS_SHARE, default 0.1) with an
  older version whose text holds a word the current one does not (old versions must not be found).

Rows only (no stored files): the search reads DocumentText, never the blobs.
"""

import datetime
import math
import os
import random
import time
import uuid

from django.db import connection, transaction

from qiyue.accounts.models import User
from qiyue.contracts.models import Contract
from qiyue.documents.models import Document, DocumentText, DocumentVersion

PARTIES = ["北京明德精密机械有限公司", "上海华信电子科技有限公司", "深圳启航物流有限公司", "杭州恒通信息技术有限公司",
           "苏州中科医疗器械有限公司", "成都远景新能源有限公司", "Acme Trading Ltd.", "Globex Corporation"]
GOODS = ["数控机床", "服务器", "冷链运输服务", "医疗影像设备", "光伏组件", "软件许可", "厂房", "工业机器人"]
CITIES = ["北京市", "上海市", "深圳市", "杭州市", "苏州市", "成都市", "武汉市", "南京市"]
# A few brand names that occur rarely (the "rare term" of the benchmark).
RARE = ["玄鸟智联", "澜沧云图", "青檀微电"]
CLAUSES = [
    "第{n}条 甲方应于{d}日内向乙方支付合同总价款的{p}%，即人民币{a}元整。",
    "乙方应按照国家标准及行业标准交付{g}，并承担运输至{c}的费用与风险。",
    "任何一方违反本合同约定的，应向守约方支付合同总金额{p}%的违约金；违约金不足以弥补损失的，违约方应继续赔偿。",
    "因不可抗力致使不能履行合同的，受影响一方应在{d}日内书面通知对方，并提供有关证明。",
    "双方因本合同发生争议的，应友好协商解决；协商不成的，提交{c}仲裁委员会仲裁。",
    "乙方对交付的{g}提供{d}个月质保期，质保期内免费维修或更换。",
    "甲方收到发票后{d}个工作日内付款，增值税税率为{p}%。",
    "本合同自双方签字盖章之日起生效，有效期至{y}年12月31日。",
    "未经对方书面同意，任何一方不得向第三方披露本合同内容及对方的商业秘密。",
    "乙方保证其提供的{g}不侵犯任何第三方的知识产权。",
    "The Supplier warrants that the {e} shall be free from defects for {d} months after delivery.",
    "Payment shall be made within {d} days of receipt of a valid invoice, by wire transfer.",
    "Neither party shall be liable for failure to perform due to force majeure events.",
    "This Agreement shall be governed by the laws of the People's Republic of China.",
    "验收合格后，甲方向{party}出具书面验收证明；{party}联系人为{name}。",
    "本合同一式{n}份，甲乙双方各执{n}份，具有同等法律效力。",
]
ENGLISH = ["equipment", "software", "services", "goods", "deliverables"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
PAGE_CHARS = 2000
# Truly rare terms: each is planted in 1–9 documents (bench/queries.py reads them back from here).
RARE_SYLLABLES = "琨瑜璟珩琰玓珂琪璞瑾"
RARE_TAILS = "鹬鹭鸾鹳鹮鹇鹞鹟鹪鹩"
RARE_TERMS = [f"{a}{b}科技" for a in RARE_SYLLABLES for b in RARE_TAILS][:60]
# Two marker words planted at the start and at the end of long documents (pages apart: different
# chunks), and a phrase written over the first chunk border (character 4,000).
CROSS_PAIRS = [("琥珀湾码头", "翡翠岭隧道"), ("青鸾计划", "白泽条款"), ("Halcyon", "Zephyrine")]
BORDER_PHRASE = "跨页条款经甲乙双方逐条确认无异议"
# A word only older versions hold: a search for it must find nothing.
OLD_VERSION_WORD = "旧版废止条款"


def clause_text(rng: random.Random, chars: int) -> str:
    out, total = [], 0
    while total < chars:
        template = rng.choice(CLAUSES)
        text = template.format(
            n=rng.randint(1, 30), d=rng.choice([5, 7, 10, 15, 30, 60, 90]), p=rng.choice([5, 10, 20, 30, 3, 6, 13]),
            a=f"{rng.randint(1, 900) * 1000:,}", g=rng.choice(GOODS), c=rng.choice(CITIES), y=rng.randint(2024, 2030),
            e=rng.choice(ENGLISH), party=rng.choice(PARTIES), name=rng.choice(NAMES))
        if rng.random() < 0.001:
            text += rng.choice(RARE) + "。"
        out.append(text)
        total += len(text)
    return "\n".join(out)


def page_range() -> tuple[int, int]:
    low, _, high = os.environ.get("BENCH_PAGES", "2-60").partition("-")
    return int(low), int(high or low)


def _insert_at(text: str, at: int, words: str) -> str:
    return text[:at] + words + text[at:]


def document_text(rng: random.Random, *, chars: int, long: bool, pages: tuple[int, int]) -> str:
    """One document's text: one page of about `chars`, or (long) 2–60 pages with the markers."""
    if not long:
        text = clause_text(rng, rng.randint(chars // 2, chars * 3 // 2))
        if rng.random() < 0.02:  # both markers close together: the AND has hits in one chunk too
            first, second = rng.choice(CROSS_PAIRS)
            text = _insert_at(text, len(text) // 2, f"{first}与{second}。")
        return text
    low, high = pages
    count = round(math.exp(rng.uniform(math.log(low), math.log(high + 0.49))))
    text = clause_text(rng, count * PAGE_CHARS)
    if len(text) > 8000 and rng.random() < 0.5:
        first, second = rng.choice(CROSS_PAIRS)
        text = f"{first}。" + text[:-50] + f"。{second}" + text[-50:]
    if len(text) > 4400 and rng.random() < 0.5:
        text = _insert_at(text, 3990, BORDER_PHRASE)
    return text


def generate_documents(*, documents: int, chars: int = 1500, seed: int = 11, batch: int = 2000,
                       long_share: float | None = None, versions_share: float | None = None) -> int:
    """Insert `documents` documents with text on random existing contracts. Returns the count."""
    rng = random.Random(seed)
    long_share = float(os.environ.get("BENCH_LONG_SHARE", "0.05")) if long_share is None else long_share
    versions_share = (float(os.environ.get("BENCH_VERSIONS_SHARE", "0.1")) if versions_share is None
                      else versions_share)
    pages = page_range()
    contracts = list(Contract.objects.values_list("id", "customer_id"))
    creator = User.objects.order_by("pk").values_list("pk", flat=True).first()
    now = datetime.datetime.now(datetime.UTC)
    made = 0
    while made < documents:
        n = min(batch, documents - made)
        with transaction.atomic():
            picks = [rng.choice(contracts) for _ in range(n)]
            docs = Document.objects.bulk_create([
                Document(contract_id=cid, customer_id=customer_id, title=f"合同正文-{made + i}.pdf", kind="signed",
                         created_by_id=creator) for i, (cid, customer_id) in enumerate(picks)])
            old = {d.pk for d in docs if rng.random() < versions_share}

            def version(document, number):
                return DocumentVersion(document_id=document.pk, number=number, filename=document.title,
                                       file_type="pdf", content_type="application/pdf", size=0, sha256="0" * 64,
                                       blob_name=uuid.uuid4().hex, key_id="bench", wrapped_key=b"",
                                       uploaded_by_id=creator, extraction_status="done")
            # Older versions first (lower ids), then the current one of every document.
            versions = DocumentVersion.objects.bulk_create([version(d, 1) for d in docs if d.pk in old]
                                                           + [version(d, 2 if d.pk in old else 1) for d in docs])
            texts = []
            for v in versions:
                current = v.number == 2 or v.document_id not in old
                text = document_text(rng, chars=chars, long=current and rng.random() < long_share, pages=pages)
                if not current:
                    text = _insert_at(text, len(text) // 3, OLD_VERSION_WORD + "。")
                texts.append(DocumentText(version_id=v.pk, text=text,
                                          pages=list(range(0, max(1, len(text)), PAGE_CHARS))))
            DocumentText.objects.bulk_create(texts)
            with connection.cursor() as cursor:
                table, vtable = Document._meta.db_table, DocumentVersion._meta.db_table
                cursor.execute(f"UPDATE {table} SET current_version_id = (SELECT max(v.id) FROM {vtable} v "
                               f"WHERE v.document_id = {table}.id) WHERE current_version_id IS NULL "
                               f"AND id >= %s", [docs[0].pk])
                # Documents of every age over five years, not all "now".
                cursor.executemany(f"UPDATE {table} SET created_at = %s WHERE id = %s", [
                    (now - datetime.timedelta(days=rng.randint(0, 1800), seconds=rng.randint(0, 86_000)), d.pk)
                    for d in docs])
        made += n
    plant_rare_terms(rng)
    return made


def plant_rare_terms(rng: random.Random) -> None:
    """Each rare term into 1–9 random current document texts (appended as a clause)."""
    current = list(Document.objects.values_list("current_version_id", flat=True))
    for term in RARE_TERMS:
        for version_id in rng.sample(current, min(len(current), rng.randint(1, 9))):
            text = DocumentText.objects.get(version_id=version_id)
            text.text += f"\n合作方为{term}有限公司。"
            text.save(update_fields=["text"])


def build_search_data(*, documents: int, chars: int = 1500) -> dict:
    """Bulk-insert document texts, then rebuild the index (`qiyue reindex`); returns timings."""
    from django.core.management import call_command

    from bench.fastload import analyze

    start = time.perf_counter()
    generate_documents(documents=documents, chars=chars)
    made = time.perf_counter() - start
    start = time.perf_counter()
    call_command("reindex", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    took = time.perf_counter() - start
    start = time.perf_counter()
    add_document_events()
    events = time.perf_counter() - start
    analyze()  # the state autovacuum would reach: timed runs start from it
    return {"documents_s": made, "reindex_s": took, "document_events_s": events}


def add_document_events() -> int:
    """The documents' uploads, newer versions, views and downloads in the audit log (bench/audit_data.py)."""
    from bench.audit_data import document_events

    return document_events()
