"""The real huggingface_hub, driven by the Hugging Face cache tests (test/hf/hub-cache.test.ts).

    python hf-hub-client.py download <repo_id> <filename> [<revision>] [<repo_type>]
    python hf-hub-client.py scan
    python hf-hub-client.py cache-ls
    python hf-hub-client.py delete <commit>...

HF_ENDPOINT, HF_HUB_CACHE and HF_HUB_OFFLINE come from the environment. Prints one JSON line:
{"path": ...} for a download, the cache as scan_cache_dir() sees it for a scan, what the
`hf cache ls` command printed (and its exit status) for cache-ls, {"deleted": [...]} once
scan_cache_dir().delete_revisions(...) ran, or
{"error": <exception class>, "message": ...} with exit status 1.
"""
import json
import subprocess
import sys

from huggingface_hub import hf_hub_download, scan_cache_dir


def download(repo_id, filename, revision=None, repo_type=None):
    return {"path": hf_hub_download(repo_id, filename, revision=revision or None, repo_type=repo_type or None)}


def scan():
    info = scan_cache_dir()
    repos = []
    for repo in sorted(info.repos, key=lambda r: r.repo_path.name):
        revisions = []
        for rev in sorted(repo.revisions, key=lambda r: r.commit_hash):
            files = sorted(str(f.file_path.relative_to(rev.snapshot_path)) for f in rev.files)
            revisions.append({"commit": rev.commit_hash, "refs": sorted(rev.refs), "files": files})
        repos.append({
            "repo_id": repo.repo_id,
            "repo_type": repo.repo_type,
            "size_on_disk": repo.size_on_disk,
            "nb_files": repo.nb_files,
            "revisions": revisions,
        })
    return {"repos": repos, "warnings": [str(w) for w in info.warnings]}


def cache_ls():
    run = subprocess.run([sys.executable, "-m", "huggingface_hub.cli.hf", "cache", "ls"], capture_output=True, text=True)
    return {"status": run.returncode, "out": run.stdout, "err": run.stderr}


def delete(*commits):
    scan_cache_dir().delete_revisions(*commits).execute()
    return {"deleted": list(commits)}


COMMANDS = {"download": download, "scan": scan, "cache-ls": cache_ls, "delete": delete}


def main(argv):
    try:
        result = COMMANDS[argv[0]](*argv[1:])
    except Exception as err:  # reported to the test, which asserts on it
        print(json.dumps({"error": type(err).__name__, "message": str(err)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
