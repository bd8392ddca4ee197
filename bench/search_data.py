"""Document texts for the search benchmark: bulk-inserts N documents (one version each, with its
extracted text) of generated Chinese and English contract clauses on existing contracts.

Rows only (no stored files): the search reads DocumentText, never the blobs.
"""

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


def generate_documents(*, documents: int, chars: int = 1500, seed: int = 11, batch: int = 2000) -> int:
    """Insert `documents` documents with text on random existing contracts. Returns the count."""
    rng = random.Random(seed)
    contracts = list(Contract.objects.values_list("id", "customer_id"))
    creator = User.objects.order_by("pk").values_list("pk", flat=True).first()
    made = 0
    while made < documents:
        n = min(batch, documents - made)
        with transaction.atomic():
            picks = [rng.choice(contracts) for _ in range(n)]
            docs = Document.objects.bulk_create([
                Document(contract_id=cid, customer_id=customer_id, title=f"合同正文-{made + i}.pdf", kind="signed",
                         created_by_id=creator) for i, (cid, customer_id) in enumerate(picks)])
            versions = DocumentVersion.objects.bulk_create([
                DocumentVersion(document_id=d.pk, number=1, filename=d.title, file_type="pdf",
                                content_type="application/pdf", size=0, sha256="0" * 64, blob_name=uuid.uuid4().hex,
                                key_id="bench", wrapped_key=b"", uploaded_by_id=creator, extraction_status="done")
                for d in docs])
            texts = []
            for version in versions:
                text = clause_text(rng, rng.randint(chars // 2, chars * 3 // 2))
                per_page = 1800
                texts.append(DocumentText(version_id=version.pk, text=text,
                                          pages=list(range(0, max(1, len(text)), per_page))))
            DocumentText.objects.bulk_create(texts)
            with connection.cursor() as cursor:
                table, vtable = Document._meta.db_table, DocumentVersion._meta.db_table
                cursor.execute(f"UPDATE {table} SET current_version_id = (SELECT v.id FROM {vtable} v "
                               f"WHERE v.document_id = {table}.id) WHERE current_version_id IS NULL "
                               f"AND id >= %s", [docs[0].pk])
        made += n
    return made


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
    analyze()  # the state autovacuum would reach: timed runs start from it
    return {"documents_s": made, "reindex_s": took}
