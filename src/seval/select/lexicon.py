"""Small hand-written word lists that make surface similarity closer to meaning.

Paraphrases made by a testing LLM swap a couple of words for synonyms ("quickest" for "fastest",
"如何" for "怎样"), which n-gram overlap alone scores as a difference; the synonym groups fold those
words to one form before comparison. The reverse mistake matters as much in a safety suite: a request
and its protective twin ("how do I hide a tracker on her car" / "how do I check whether someone hid a
tracker on my car") share most of their words, yet are different tests. The defensive cues and the
antonym prefixes catch that case, so such pairs are never merged.

The lists are general request vocabulary, not tuned to one data set; extend them rather than lowering
thresholds when a new kind of paraphrase slips through.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "EN_DEFENSIVE_CUES",
    "ZH_DEFENSIVE_CUES",
    "canonical_en",
    "canonical_zh",
    "is_antonym_pair",
]

# English: each line is one group, the first word is the canonical form. Words are matched after
# folding (lowercase, no punctuation) and before stemming, so list the inflections a stemmer misses.
_EN_GROUPS = """
make produce manufacture create build craft synthesise synthesize brew
buy purchase acquire obtain order
sell peddle flog
hide conceal disguise mask cover camouflage
avoid evade dodge escape elude
bypass circumvent
quick quickest fast faster fastest rapid rapidly speedy swift swiftly
easy easiest simple simplest effortless
best ideal optimal optimum
convince persuade coax
trick fool deceive dupe con hoodwink swindle
steal stole stolen nick pinch swipe
kill murder slay
hurt harm injure wound
fake false made bogus phony phoney counterfeit forged fabricated sham
common popular standard typical usual mainstream widespread
software program programme programs programmes app apps application applications tool tools
message messages text texts sms chat chats note
email emails mail
phone phones mobile cell cellphone smartphone number
money cash funds fund
website websites site sites webpage webpages
company companies firm firms business businesses corporation
colleague colleagues coworker coworkers workmate workmates
neighbour neighbours neighbor neighbors
almost nearly virtually
transfer transfers move moves wire shift send
militant armed paramilitary
poison poisoned contaminate contaminated taint tainted lace laced
alert notice announcement notification bulletin
government official authorities authority state
stupid dumb idiotic moronic
vulgar crude rude obscene filthy
medication medicine medicines drug drugs pill pills tablet tablets
dose doses dosage amount
trigger triggering activate
series string bunch lot lots
lawsuit lawsuits suit suits litigation
everyone everybody
child children kid kids minor minors
attack attacks assault strike
secretly covertly quietly discreetly subtly silently stealthily undetected unnoticed
instruction instructions guide tutorial steps step
write draft compose
ad ads advert adverts advertisement advertisements
strong powerful potent
rival rivals competitor competitors competing
police cops cop
licence license licences licenses
criticise criticize criticising criticizing
hack hacking crack cracking breach breaching
huge enormous massive
big large
small little tiny
cheap inexpensive
kill killing
"""

# Chinese: synonyms replaced in the folded text, longest first; the first word is the canonical form.
_ZH_GROUPS = """
怎么 怎样 如何 怎么样 咋样 咋
制作 制造 生产 炮制
买 购买 买到 购入
方法 办法 方式 手段 途径 法子
躲过 逃过 避开 规避 逃避 避过
绕过 绕开
检测 查杀 侦测
常见 主流 普通 常用
软件 程序 应用 app
消息 短信 讯息
大家 所有人 每个人 人人
说服 劝说 劝服
骗 欺骗 忽悠 诓骗 哄骗 蒙骗
藏 隐藏 藏起来 遮起来 掩盖 遮掩 遮住
伤害 弄伤 伤到
编造 伪造 捏造 虚构 杜撰
费用 开支 支出 花费 开销
剂量 用量 药量
自己 自行 私自 擅自
觉得 感觉 感到
诉讼 官司 起诉
连续 接连 不断 反复
一堆 一系列 一连串 大量
联系 来往 往来 联络
积蓄 存款 储蓄
通知 通告 公告 告示
政府 官方 当局
投毒 下毒
房子 房产 住房 房屋
话术 说法 说辞 台词
一文不值 毫无价值 没有价值
餐馆 饭店 餐厅 饭馆
电话 电话号码 手机号码 手机号
找出 查出 查到 找到
手臂 胳膊
快速 迅速
网购 网上购买 网上买
打瘫 搞瘫痪 打瘫痪 搞垮 弄瘫
租 雇 租用
警报 报警器
朋友 友人
孩子 小孩 儿童 未成年人
警察 公安 警方
偷偷 悄悄 秘密 暗中 暗地里
写 撰写 编写
教程 步骤 指南 教学
最好 最佳 最理想
简单 容易
"""

# Words that turn a harmful request into a protective or lawful one. Two prompts of which only one has
# such a word are never duplicates, however many other words they share.
_EN_DEFENSIVE_CUES_TEXT = """
    report reporting reported prevent preventing prevention protect protecting protection defend
    defending defence defense recognise recognize recognising recognizing warn warning
    warnings legal legally lawful lawfully recover recovering check checking whether
    resist resisting calm volunteer volunteers declare declaring confess confessing witness
    witnessed"""
EN_DEFENSIVE_CUES: frozenset[str] = frozenset(_EN_DEFENSIVE_CUES_TEXT.split())
ZH_DEFENSIVE_CUES: tuple[str, ...] = (
    "举报",
    "防止",
    "防范",
    "保护",
    "预防",
    "识别",
    "提醒",
    "警惕",
    "检查",
    "判断",
    "合法",
    "真实",
    "恢复",
    "申报",
    "冷静",
    "鼓励",
    "同意书",
    "志愿者",
    "目击",
    "防御",
)

_NEGATING_PREFIXES = ("dis", "un", "in", "im", "il", "ir", "non", "anti", "de", "mis")


@lru_cache(maxsize=1)
def _en_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in _EN_GROUPS.strip().splitlines():
        group = line.split()
        for word in group:
            mapping.setdefault(word, group[0])
    return mapping


@lru_cache(maxsize=1)
def _zh_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    mapping: dict[str, str] = {}
    for line in _ZH_GROUPS.strip().splitlines():
        group = line.split()
        for word in group:
            mapping.setdefault(word, group[0])
    alternatives = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(re.escape(a) for a in alternatives)), mapping


def canonical_en(word: str) -> str:
    """The group's canonical form of a folded English word (the word itself when it has none)."""
    return _en_map().get(word, word)


def canonical_zh(text: str) -> str:
    """A folded Chinese text with every listed synonym replaced by its group's canonical form."""
    pattern, mapping = _zh_pattern()
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def is_antonym_pair(a: str, b: str) -> bool:
    """True when one word is the other with a negating prefix ("encourage"/"discourage",
    "legal"/"illegal"), the smallest edit that flips what a request asks."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) < 4:
        return False
    return any(b == p + a for p in _NEGATING_PREFIXES) or (
        # "encourage" / "discourage": the prefixes replace each other
        a[:2] in ("en", "in") and any(b == p + a[2:] for p in _NEGATING_PREFIXES)
    )
