#!/usr/bin/env python3
"""Checks what a registry user relies on in every publishable package of the
workspace: description, license and a license file, repository,
documentation, readme, keywords, categories, rust-version, and docs.rs
metadata where the package has features. Reads `cargo metadata` on stdin;
prints one line per problem and exits 1 if there is any."""

import json
import os
import sys

meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
problems = []
checked = 0
for package in meta["packages"]:
    if package["id"] not in members or package.get("publish") == []:
        continue
    checked += 1
    name = package["name"]
    root = os.path.dirname(package["manifest_path"])
    for field in ["description", "license", "repository", "documentation", "readme", "rust_version"]:
        if not package.get(field):
            problems.append(f"{name}: no {field.replace('_', '-')}")
    for field in ["keywords", "categories"]:
        if not package.get(field):
            problems.append(f"{name}: no {field}")
    if not os.path.isfile(os.path.join(root, "LICENSE")):
        problems.append(f"{name}: no LICENSE file in {root}")
    if package.get("readme") and not os.path.isfile(os.path.join(root, package["readme"])):
        problems.append(f"{name}: its readme {package['readme']} is not a file")
    public_features = [f for f in package["features"] if f != "default" and not f.startswith("dep:")]
    if public_features and not ((package.get("metadata") or {}).get("docs") or {}).get("rs"):
        problems.append(f"{name}: features {public_features} but no [package.metadata.docs.rs]")
for problem in problems:
    print(f"package metadata: {problem}")
if checked == 0:
    print("package metadata: no publishable package found")
    sys.exit(1)
print(f"package metadata: {checked} publishable packages checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
