"""Text extraction throughput: pages per second of the PDF text-layer extraction the worker runs.

    .venv/bin/python bench/extraction.py [PAGES]

Builds a text PDF of contract clauses (Chinese in reportlab's STSong-Light CID font, and English,
about 40 lines a page), then times qiyue.documents.textformats.extract("pdf", …) over it: the
median of 3 runs. No database, no OCR (a text PDF has a text layer on every page).
"""

import io
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qiyue.documents.textformats import extract  # noqa: E402

CLAUSES_ZH = [
    "甲方应于本合同签订之日起十五个工作日内向乙方支付合同总价款的百分之三十作为预付款。",
    "乙方应按照本合同附件一所列技术规格和交付时间表完成全部货物的交付、安装和调试工作。",
    "任何一方违反本合同约定的，应向守约方支付合同总金额百分之五的违约金，并赔偿由此造成的损失。",
    "因不可抗力导致本合同无法履行的，受影响一方应在十日内书面通知对方，并提供相关证明文件。",
    "本合同未尽事宜，双方可另行签订补充协议，补充协议与本合同具有同等法律效力。",
    "双方因履行本合同发生争议的，应友好协商解决；协商不成的，提交甲方所在地人民法院诉讼解决。",
    "乙方对在履行本合同过程中知悉的甲方商业秘密负有保密义务，保密期限至合同终止后三年。",
]
CLAUSES_EN = [
    "The Supplier shall deliver the Goods to the Delivery Point on or before the Delivery Date.",
    "Payment shall be made within thirty (30) days after receipt of a valid VAT invoice.",
    "This Agreement shall be governed by and construed in accordance with the laws of the PRC.",
    "Neither Party may assign its rights under this Agreement without prior written consent.",
    "The warranty period for the Equipment is twelve (12) months from the date of acceptance.",
]


def build_text_pdf(pages: int = 200, *, seed: int = 7) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    rng = random.Random(seed)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    for number in range(1, pages + 1):
        pdf.setFont("STSong-Light", 10)
        pdf.drawString(72, 800, f"采购合同 HT-2026-{number:06d}  第 {number} 页 / 共 {pages} 页")
        y = 775
        while y > 60:
            if rng.random() < 0.6:
                clause = rng.choice(CLAUSES_ZH)
                for start in range(0, len(clause), 42):  # wrap a Chinese line at 42 characters
                    pdf.drawString(72, y, clause[start:start + 42])
                    y -= 16
            else:
                pdf.drawString(72, y, rng.choice(CLAUSES_EN))
                y -= 16
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def measure_text_pdf_throughput(pages: int = 200, runs: int = 3) -> float:
    """Pages per second of text-PDF extraction, median of `runs` runs."""
    data = build_text_pdf(pages)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        result = extract("pdf", io.BytesIO(data))
        elapsed = time.perf_counter() - start
        assert result.page_count == pages and not result.ocr_used and len(result.page_starts) == pages
        rates.append(pages / elapsed)
    return statistics.median(rates)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"Text extraction throughput (text PDF, {count} pages, median of 3): "
          f"{measure_text_pdf_throughput(count):.0f} pages/s")
