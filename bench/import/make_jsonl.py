#!/usr/bin/env python3
"""Writes a JSON Lines file for `concord import messages`: N messages over 100 channels and
1,000 senders, Chinese and English lines of 3-14 words, 10 ms apart, deterministic.

    python3 bench/import/make_jsonl.py 1000000 /tmp/import-1m.jsonl
"""
import json
import random
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/import.jsonl"
random.seed(7)
zh = ("我们 今天 下午 开会 讨论 即时通讯 项目 进度 请 大家 准时 参加 客户 反馈 问题 已经 修复 "
      "明天 发布 新 版本 财务 报销 流程 安全 生产 巡查").split()
en = ("please review the release notes before the meeting tomorrow we fixed the login bug and "
      "shipped a new build for customers").split()
start_ms = 1767225600000
with open(path, "w") as out:
    for i in range(count):
        words = random.choices(zh if i % 3 else en, k=random.randint(3, 14))
        text = ("" if i % 3 else " ").join(words)
        line = {"channel": f"imp-{i % 100}", "sender": f"imp{i % 1000}", "ts": start_ms + i * 10, "text": text}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
