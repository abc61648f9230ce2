"""The Python peers of `cargo xtask bench`: the clients' documented recipes, timed.

Usage: python peer_bench.py <command> <args...>; each command prints one JSON line.

  lightcurves <sandbox.json> <n> <runs>     Alerce().query_lightcurve(oid, survey="ztf") in a loop
  stream <sandbox.json> <page_size>         SkyPortal docs' pagination script with requests
  atlas <sandbox.json> <n> <runs>           RequestMultipleSourceData(...).chunk_get_response_quiet()
  ratelimited <sandbox.json> <requests>     GET /api/sources/{id}; on 429 sleep 1 s (the docs' script)
  parse-fp <file> <runs>                    pandas.read_csv(sep=r"\\s+") after stripping ###
  parse-json <file> <runs> <frame:0|1>      json.loads (+ pandas.DataFrame)
  tns-objects <sandbox.json> <n> <runs>     TNS get/object with photometry, the TNS sample scripts' way
  tns-csv <file> <runs>                     pandas.read_csv of the TNS public-objects CSV (skiprows=1)
  fink <sandbox.json> <n> <runs>            Fink docs: requests.post(.../api/v1/objects) + pd.read_json
  lasair-objects <sandbox.json> <n> <runs>  lasair_client(token, endpoint=...).object(oid) loop
  lasair-cone <sandbox.json> <n> <runs>     lasair_client(...).cone(ra, dec, 5, 'all') loop

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
    secs, cpu, server_cpu, found, points = [], [], [], 0, 0
    for _ in range(runs):
        c0, s0 = time.process_time(), cpu_secs(inf.get("pid"))
        t = time.perf_counter()
        c = atlasapi.RequestMultipleSourceData(array_ids=ids, api_config_file=cfg)
        c.chunk_get_response_quiet()
        secs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c0)
        server_cpu.append(cpu_secs(inf.get("pid")) - s0)
        found = len(c.response_data)
        points = sum(len(d.get("lc") or []) + len(d.get("lcnondets") or []) + len(d.get("fp") or []) for d in c.response_data)
    return {"n": len(ids), "secs": secs, "found": found, "points": points, "hwm_kib": peak_rss_kib(),
            "cpu_secs": cpu, "server_cpu_secs": server_cpu}


def cpu_secs(pid):
    """CPU time (user + system, s) of process `pid` so far, from /proc (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


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


def tns_objects(path, n, runs):
    """TNS has no official Python client: its sample scripts POST the form fields `api_key` and
    `data` (a JSON string) with the `tns_marker` User-Agent, one `requests.post` per call, and
    sleep until the announced reset (+1 s) when a `*-remaining` header reaches 0 (also on 429)."""
    import requests

    inf = info(path)
    url = inf["urls"]["tns"].rstrip("/") + "/api/get/object"
    cred = inf["credentials"]["tns"]
    marker = "tns_marker" + json.dumps({"tns_id": cred["bot_id"], "type": "bot", "name": cred["bot_name"]}, separators=(",", ":"))
    headers = {"User-Agent": marker}
    names = inf["tns_names"]
    names = [names[i % len(names)] for i in range(n)]

    def wait_if_needed(r):
        for k, v in r.headers.items():
            if k.lower().endswith("-remaining") and v.strip() == "0":
                reset = r.headers.get(k[: -len("remaining")] + "reset", "1")
                time.sleep(int(reset) + 1)
                return True
        return False

    secs, ok, points = [], 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        ok, points = 0, 0
        for name in names:
            data = {"objname": name, "photometry": "1", "spectra": "0"}
            while True:
                r = requests.post(url, headers=headers, data={"api_key": cred["api_key"], "data": json.dumps(data)})
                if r.status_code == 429:
                    wait_if_needed(r) or time.sleep(1)
                    continue
                break
            if r.status_code == 200:
                reply = r.json()["data"]
                reply = reply.get("reply", reply)
                ok += 1
                points += len(reply.get("photometry") or [])
            wait_if_needed(r)
        secs.append(time.perf_counter() - t)
    return {"n": n, "secs": secs, "ok": ok, "points": points}


def tns_csv(path, runs):
    import pandas as pd

    with open(path) as fh:
        text = fh.read()
    secs, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        df = pd.read_csv(io.StringIO(text), skiprows=1)
        secs.append(time.perf_counter() - t)
        rows = len(df)
        del df
    return {"bytes": len(text.encode()), "rows": rows, "secs": secs}


def fink(path, n, runs):
    """fink-client (PyPI) has no REST API client (its botlib hard-codes the production URL
    and draws a PNG), so the peer is the Fink documentation's way: requests + pandas."""
    import pandas as pd
    import requests

    inf = info(path)
    url = inf["urls"]["fink"].rstrip("/") + "/ztf"
    oids = inf["ztf_oids"]
    oids = [oids[i % len(oids)] for i in range(n)]
    secs, rows, valid, upper = [], 0, 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        rows, valid, upper = 0, 0, 0
        for oid in oids:
            r = requests.post(f"{url}/api/v1/objects", json={"objectId": oid, "withupperlim": "True", "output-format": "json"})
            pdf = pd.read_json(io.BytesIO(r.content))
            rows += len(pdf)
            if len(pdf):
                valid += int((pdf["d:tag"] == "valid").sum())
                upper += int((pdf["d:tag"] == "upperlim").sum())
        secs.append(time.perf_counter() - t)
    return {"n": n, "secs": secs, "rows": rows, "detections": valid, "upper_limits": upper}


def lasair_client(inf):
    from lasair import lasair_client as lc

    return lc(inf["credentials"]["lasair"]["ztf_token"], endpoint=inf["urls"]["lasair"]["ztf"].rstrip("/"))


def lasair_objects(path, n, runs):
    inf = info(path)
    L = lasair_client(inf)
    oids = inf["ztf_oids"]
    oids = [oids[i % len(oids)] for i in range(n)]
    secs, ok, cands, forced = [], 0, 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        ok, cands, forced = 0, 0, 0
        for oid in oids:
            obj = L.object(oid)
            if "error" not in obj:
                ok += 1
                cands += len(obj.get("candidates") or [])
                forced += len(obj.get("forcedphot") or [])
        secs.append(time.perf_counter() - t)
    return {"n": n, "secs": secs, "ok": ok, "candidates": cands, "forcedphot": forced}


def lasair_cone(path, n, runs):
    inf = info(path)
    L = lasair_client(inf)
    pos = inf["ztf_radec"]
    pos = [pos[i % len(pos)] for i in range(n)]
    secs, ok, hits = [], 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        ok, hits = 0, 0
        for ra, dec in pos:
            res = L.cone(ra, dec, 5, "all")
            ok += 1
            hits += len(res) if isinstance(res, list) else len(res.get("objects") or [])
        secs.append(time.perf_counter() - t)
    return {"n": n, "secs": secs, "ok": ok, "hits": hits}


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
    elif cmd == "tns-objects":
        out = tns_objects(args[0], int(args[1]), int(args[2]))
    elif cmd == "tns-csv":
        out = tns_csv(args[0], int(args[1]))
    elif cmd == "fink":
        out = fink(args[0], int(args[1]), int(args[2]))
    elif cmd == "lasair-objects":
        out = lasair_objects(args[0], int(args[1]), int(args[2]))
    elif cmd == "lasair-cone":
        out = lasair_cone(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
