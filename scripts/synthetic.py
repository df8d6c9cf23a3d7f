"""Synthetic corpora for benchmarks: realistic-looking policy-interpretation records, reproducible.

The text is assembled from real MOFCOM policy vocabulary with a seeded RNG, so term frequencies
look like the real corpus's (common words in most documents, specific ones in few).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

COMMON = (
    "推动 促进 加快 加强 完善 支持 鼓励 推进 深化 优化 提升 扩大 稳定 落实 实施 建立 健全 发展 改革 开放 "
    "企业 市场 服务 贸易 投资 消费 经济 政策 措施 意见 通知 部门 地方 领域 体系 机制 能力 水平 质量 环境"
).split()
SPECIFIC = (
    "外资 关税 出口 进口 跨境电商 数字经济 营商环境 自由贸易试验区 服务贸易 对外投资 外商投资 负面清单 "
    "反倾销 贸易救济 供应链 产业链 数字化赋能 生活服务 老字号 步行街 县域商业 农产品流通 汽车消费 家电以旧换新 "
    "绿色低碳 知识产权 出口管制 两用物项 国际合作 一带一路 区域全面经济伙伴关系协定 电子商务 直播电商 冷链物流"
).split()
EN_COMMON = (
    "promote accelerate strengthen improve support encourage deepen optimise expand stabilise implement "
    "enterprises market services trade investment consumption economy policy measures opinions departments"
).split()
EN_SPECIFIC = (
    "foreign investment tariffs exports imports cross-border e-commerce digital economy business environment "
    "free trade zone services trade negative list anti-dumping supply chain digital empowerment cold chain"
).split()


def sentence(rng: random.Random, words: list[str], specific: list[str], n: int, sep: str) -> str:
    picks = [rng.choice(words) for _ in range(n)]
    for _ in range(rng.randint(0, 2)):
        picks.insert(rng.randrange(len(picks) + 1), rng.choice(specific))
    return sep.join(picks)


def synthetic_records(n: int, seed: int = 0, paragraphs: int = 6) -> Iterator[dict]:
    """``n`` records in the seed record's shape, with Chinese text, English translation and summary."""
    rng = random.Random(seed)
    for i in range(n):
        year = 2004 + i % 21
        month = 1 + i % 12
        url = f"http://www.mofcom.gov.cn/article/zwgk/gkzcjd/{year}{month:02d}/{year}{month:02d}{i:08d}.shtml"
        zh = "\n\n".join(
            "，".join(sentence(rng, COMMON, SPECIFIC, 6, "") for _ in range(4)) + "。" for _ in range(paragraphs)
        )
        en = "\n\n".join(
            ", ".join(sentence(rng, EN_COMMON, EN_SPECIFIC, 8, " ") for _ in range(3)) + "." for _ in range(paragraphs)
        )
        yield {
            "title": f"商务部负责人解读{sentence(rng, COMMON, SPECIFIC, 3, '')}第{i}号",
            "resulting_text": zh,
            "input_url": f"{year}{month:02d}15000000/{url}",
            "returned_url": f"https://web.archive.org/web/{year}{month:02d}14120000/{url}",
            "date": f"{year}-{month:02d}-14 00:00:00",
            "translated_title": f"Interpretation no. {i}: {sentence(rng, EN_COMMON, EN_SPECIFIC, 5, ' ')}",
            "translated_content": en,
            "english_summary": en.split("\n\n")[0],
            "html": None,
        }
