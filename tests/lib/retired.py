"""The keys dkimrot moved out of keys.yaml (docs/design.md §3)."""
import os
import re

ENTRY = re.compile(r'(?m)^  - selector: "([^"]+)"\n(?:    .*\n)*?'
                   r'    state: (\w+)')


def retired_yaml(tree):
    """{(domain, selector): state} of keys/*/retired.yaml in tree."""
    moved = {}
    keys = os.path.join(tree, "keys")
    for dom in os.listdir(keys) if os.path.isdir(keys) else []:
        try:
            with open(os.path.join(keys, dom, "retired.yaml")) as f:
                text = f.read()
        except FileNotFoundError:
            continue
        for sel, st in ENTRY.findall(text):
            moved[(dom, sel)] = st
    return moved
