"""The Python peers of `cargo xtask bench`: the clients' documented recipes, timed.

Usage: python peer_bench.py <command> <args...>; each command prints one JSON line.

  lightcurves <sandbox.json> <n> <runs>     Alerce().query_lightcurve(oid, survey="ztf") in a loop
  stream <sandbox.json> <page_size>         SkyPortal docs' pagination script with requests
  atlas <sandbox.json> <n> <runs>           RequestMultipleSourceData(...).chunk_get_response_quiet()
  ratelimited <sandbox.json> <requests>     GET /api/sources/{id}; on 429 sleep 1 s (the docs' script)
  parse-fp <file> <runs>                    pandas.read_csv(sep=r"\\s+") after stripping ###
  parse-json <file> <runs> <frame:0|1>      json.loads (+ pandas.DataFrame)

<sandbox.json> is the line printed by broker-sandbox's bench_sandbox example.
"""
import importlib.util
import io
import json
import os
import resource
import sys
import tempfile
import time
import warnings

warnings.simplefilter("ignore")


def info(path):
    with open(path) as fh:
        return json.loads(fh.read().splitlines()[0])


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def lightcurves(path, n, runs):
    inf = info(path)
    a = inf["urls"]["alerce"]
    cfg_path = os.path.join(tempfile.mkdtemp(), "alerce_config.json")
    with open(os.path.join(os.path.dirname(importlib.util.find_spec("alerce").origin), "default_config.json")) as fh:
        acfg = json.load(fh)
    acfg["ztf"]["ZTF_API_URL"] = a["api"]
    acfg["multisurvey"]["URL_MS"] = a["multisurvey"]
    with open(cfg_path, "w") as fh:
        json.dump(acfg, fh)
    os.environ["ALERCE_CONFIG_PATH"] = cfg_path
    from alerce.core import Alerce

    client = Alerce()
    oids = inf["ztf_oids"]
    oids = [oids[i % len(oids)] for i in range(n)]
    secs, points = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        points = 0
        for oid in oids:
            lc = client.query_lightcurve(oid, survey="ztf")
            points += len(lc["detections"]) + len(lc["non_detections"])
        secs.append(time.perf_counter() - t)
    return {"n": n, "secs": secs, "points": points}


def stream(path, num_per_page):
    import requests

    inf = info(path)
    base_url = inf["urls"]["skyportal"] + "/api/sources"
    token = inf["credentials"]["skyportal"]["token"]
    t = time.perf_counter()
    # The SkyPortal documentation's pagination script (without group_ids).
    all_sources = []
    page = 1
    total_matches = None
    retry_attempts = 0
    max_retry_attempts = 10
    while retry_attempts <= max_retry_attempts:
        r = requests.get(
            f"{base_url}?pageNumber={page}&numPerPage={num_per_page}&totalMatches={total_matches}",
            headers={"Authorization": f"token {token}"},
        )
        if r.status_code == 429:
            time.sleep(1)
            continue
        data = r.json()
        if data["status"] != "success":
            retry_attempts += 1
            time.sleep(5)
            continue
        else:
            retry_attempts = 0
        all_sources.extend(data["data"]["sources"])
        total_matches = data["data"]["totalMatches"]
        if len(all_sources) >= total_matches:
            break
        page += 1
    return {"items": len(all_sources), "secs": time.perf_counter() - t, "hwm_kib": peak_rss_kib()}


def atlas(path, n, runs):
    import numpy as np
    from atlasapiclient import client as atlasapi

    inf = info(path)
    cfg = os.path.join(tempfile.mkdtemp(), "api_config_MINE.yaml")
    with open(cfg, "w") as fh:
        fh.write(f'token: "{inf["credentials"]["atlas"]["token"]}"\nbase_url: "{inf["urls"]["atlas"]}"\n')
    ids = np.array(inf["atlas_ids"][:n])
    secs, found, points = [], 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        c = atlasapi.RequestMultipleSourceData(array_ids=ids, api_config_file=cfg)
        c.chunk_get_response_quiet()
        secs.append(time.perf_counter() - t)
        found = len(c.response_data)
        points = sum(len(d.get("lc") or []) + len(d.get("lcnondets") or []) + len(d.get("fp") or []) for d in c.response_data)
    return {"n": len(ids), "secs": secs, "found": found, "points": points, "hwm_kib": peak_rss_kib()}


def ratelimited(path, requests_n):
    import requests

    inf = info(path)
    base = inf["urls"]["skyportal"]
    token = inf["credentials"]["skyportal"]["token"]
    ids = inf["skyportal_ids"]
    requests.delete(f"{base}/__sandbox/requests")
    t = time.perf_counter()
    ok = 0
    with requests.Session() as s:
        for i in range(requests_n):
            while True:
                r = s.get(f"{base}/api/sources/{ids[i % len(ids)]}", headers={"Authorization": f"token {token}"})
                if r.status_code == 429:
                    time.sleep(1)
                    continue
                ok += r.status_code == 200
                break
    secs = time.perf_counter() - t
    log = requests.get(f"{base}/__sandbox/requests", params={"service": "skyportal"}).json()
    statuses = [x["status"] for x in log["requests"]]
    return {"requests": requests_n, "ok": ok, "secs": secs, "sent": len(statuses), "throttled": statuses.count(429)}


def parse_fp(path, runs):
    import pandas as pd

    with open(path) as fh:
        text = fh.read()
    secs, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        df = pd.read_csv(io.StringIO(text.replace("###", "")), sep=r"\s+")
        secs.append(time.perf_counter() - t)
        rows = len(df)
        del df
    return {"bytes": len(text.encode()), "rows": rows, "secs": secs}


def parse_json(path, runs, frame):
    import pandas as pd

    with open(path, "rb") as fh:
        data = fh.read()
    loads, frames, rows = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        v = json.loads(data)
        loads.append(time.perf_counter() - t)
        rows = len(v) if isinstance(v, list) else sum(len(v.get(k) or []) for k in ("lc", "lcnondets", "fp"))
        del v
        if frame:
            t = time.perf_counter()
            df = pd.DataFrame(json.loads(data))
            frames.append(time.perf_counter() - t)
            del df
    return {"bytes": len(data), "rows": rows, "loads_secs": loads, "frame_secs": frames}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "lightcurves":
        out = lightcurves(args[0], int(args[1]), int(args[2]))
    elif cmd == "stream":
        out = stream(args[0], int(args[1]))
    elif cmd == "atlas":
        out = atlas(args[0], int(args[1]), int(args[2]))
    elif cmd == "ratelimited":
        out = ratelimited(args[0], int(args[1]))
    elif cmd == "parse-fp":
        out = parse_fp(args[0], int(args[1]))
    elif cmd == "parse-json":
        out = parse_json(args[0], int(args[1]), args[2] == "1")
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
