"""Runs the real Python clients' documented recipes against a running broker-sandbox.

Usage: python peer_check.py <sandbox.json>   (the line printed by `broker-sandbox --json`)

Exits non-zero when a recipe fails: where a real client fails against the sandbox, the
sandbox is wrong.
"""
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
import traceback
import warnings

warnings.simplefilter("ignore")

INFO = json.loads(open(sys.argv[1]).read().splitlines()[0])
URLS, CREDS, OBJECTS = INFO["urls"], INFO["credentials"], INFO["objects"]
FAILURES = []


def check(name):
    def wrap(fn):
        try:
            fn()
            print(f"PASS {name}")
        except Exception as e:  # noqa: BLE001 - report every failure
            FAILURES.append(name)
            print(f"FAIL {name}: {e!r}")
            traceback.print_exc()
        return fn
    return wrap


# ---------------------------------------------------------------- ALeRCE (alerce==2.3.1)
cfg_path = os.path.join(tempfile.mkdtemp(), "alerce_config.json")
with open(os.path.join(os.path.dirname(importlib.util.find_spec("alerce").origin), "default_config.json")) as fh:
    acfg = json.load(fh)
a = URLS["alerce"]
acfg["ztf"]["ZTF_API_URL"] = a["api"]
acfg["multisurvey"]["URL_MS"] = a["multisurvey"]
acfg["stamps"]["STAMP_URL"] = a["multisurvey_stamps"]
acfg["stamps_ztf"]["AVRO_URL"] = a["ztf_stamps"]
with open(cfg_path, "w") as fh:
    json.dump(acfg, fh)
os.environ["ALERCE_CONFIG_PATH"] = cfg_path

from alerce.core import Alerce  # noqa: E402

alerce = Alerce(CATSHTM_API_URL=a["catshtm"])
ztf_obj = next(o for o in OBJECTS if o["ztf_oid"] and o["transient"])
OID = ztf_obj["ztf_oid"]


@check("alerce query_objects with filters (pandas)")
def _():
    df = alerce.query_objects(survey="ztf", classifier="lc_classifier", page_size=20, count=True, format="pandas")
    assert len(df) > 0, "no objects"
    df = alerce.query_objects(survey="ztf", oid=[o["ztf_oid"] for o in OBJECTS if o["ztf_oid"]][:5], format="pandas")
    assert OID in set(df["oid"]) or len(df) > 0
    df = alerce.query_objects(survey="ztf", class_name=ztf_obj["class"], classifier="lc_classifier", probability=0.0, ndet=[1, 100000], format="json")
    assert "items" in df


@check("alerce query_object / query_lightcurve / detections / non_detections")
def _():
    o = alerce.query_object(OID, survey="ztf", format="json")
    assert o["oid"] == OID
    lc = alerce.query_lightcurve(OID, survey="ztf", format="json")
    assert len(lc["detections"]) > 0
    det = alerce.query_detections(OID, survey="ztf", format="pandas")
    assert len(det) == len(lc["detections"])
    nd = alerce.query_non_detections(OID, survey="ztf", format="pandas")
    assert len(nd) == len(lc["non_detections"])


@check("alerce query_probabilities / magstats / features / classifiers / classes")
def _():
    p = alerce.query_probabilities(OID, survey="ztf", format="pandas")
    assert set(p["classifier_name"]) >= {"lc_classifier"}
    alerce.query_magstats(OID, survey="ztf", format="json")
    alerce.query_features(OID, survey="ztf", format="pandas")
    alerce.query_feature(OID, "Multiband_period", survey="ztf", format="json")
    cl = alerce.query_classifiers(survey="ztf", format="json")
    c0 = cl[0]
    classes = alerce.query_classes(c0["classifier_name"], c0["classifier_version"], survey="ztf", format="json")
    assert len(classes) > 0


@check("alerce query_forced_photometry (ZTF)")
def _():
    fp = alerce.query_forced_photometry(OID, survey="ztf", format="json")
    assert len(fp) > 0


@check("alerce get_stamps (ZTF, HDUList)")
def _():
    hdus = alerce.get_stamps(OID)
    assert hdus is not None and len(hdus) == 3, hdus
    assert hdus[0].data.shape == (63, 63)


@check("alerce LSST query_objects / lightcurve / probabilities / stamps")
def _():
    lsst = next(o for o in OBJECTS if o["lsst_oid"])
    items = alerce.query_objects(survey="lsst", page_size=5, format="json")
    assert len(items) > 0
    lc = alerce.query_lightcurve(str(lsst["lsst_oid"]), survey="lsst", format="json")
    assert "detections" in lc
    pr = alerce.query_probabilities(str(lsst["lsst_oid"]), survey="lsst", format="json")
    assert len(pr) > 0
    if lc["detections"]:
        st = alerce.get_stamps(survey="lsst", oid=str(lsst["lsst_oid"]))
        assert st is not None


@check("alerce catshtm_conesearch / catshtm_crossmatch / catshtm_redshift")
def _():
    host = next(o for o in OBJECTS if o["class"] in ("SNIa", "SNII", "SNIbc") and o["redshift"])
    cone = alerce.catshtm_conesearch(host["ra"], host["dec"], 30, catalog_name="all", format="pandas")
    assert cone is not None and len(cone) > 0, cone
    xm = alerce.catshtm_crossmatch(host["ra"], host["dec"], 30, catalog_name="all", format="pandas")
    assert xm is not None and len(xm) > 0, xm
    one = alerce.catshtm_crossmatch(host["ra"], host["dec"], 30, catalog_name="2MASS", format="pandas")
    assert one is not None
    z = alerce.catshtm_redshift(host["ra"], host["dec"], 30)
    assert z is not None and abs(float(z) - host["redshift"]) < 1e-6, z


# ---------------------------------------------------------------- ATLAS (atlasapiclient==1.2.0)
from atlasapiclient import client as atlasapi  # noqa: E402
import numpy as np  # noqa: E402

atlas_cfg = os.path.join(tempfile.mkdtemp(), "api_config_MINE.yaml")
with open(atlas_cfg, "w") as fh:
    fh.write(f'token: "{CREDS["atlas"]["token"]}"\nbase_url: "{URLS["atlas"]}"\n')
atlas_obj = next(o for o in OBJECTS if o["transient"])


@check("atlasapiclient RequestSingleSourceData")
def _():
    c = atlasapi.RequestSingleSourceData(atlas_id=str(atlas_obj["atlas_id"]), api_config_file=atlas_cfg, get_response=True)
    d = c.response_data[0]
    assert d["object"]["id"] == atlas_obj["atlas_id"]
    assert isinstance(d["lc"], list) and isinstance(d["lcnondets"], list)


@check("atlasapiclient RequestMultipleSourceData (chunked)")
def _():
    ids = np.array([o["atlas_id"] for o in OBJECTS[:7]])
    c = atlasapi.RequestMultipleSourceData(array_ids=ids, mjdthreshold=60500, api_config_file=atlas_cfg, chunk_size=3)
    c.chunk_get_response_quiet()
    got = [d["object"]["id"] for d in c.response_data]
    assert got == list(ids), got


@check("atlasapiclient ConeSearch (nearest, all, count)")
def _():
    for rt in ("nearest", "all", "count"):
        c = atlasapi.ConeSearch(payload={"ra": atlas_obj["ra"], "dec": atlas_obj["dec"], "radius": 5, "requestType": rt}, api_config_file=atlas_cfg, get_response=True)
        if rt == "nearest":
            assert c.response_data["object"] == atlas_obj["atlas_id"]
        elif rt == "count":
            assert c.response_data["count"] >= 1


@check("atlasapiclient RequestATLASIDsFromWebServerList + custom lists")
def _():
    c = atlasapi.RequestATLASIDsFromWebServerList("good", api_config_file=atlas_cfg)
    assert isinstance(c.response_data, list)
    w = atlasapi.WriteToCustomList(array_ids=np.array([atlas_obj["atlas_id"]]), list_name="vra", api_config_file=atlas_cfg)
    w.get_response()
    assert w.response_data["info"] in ("Row created.", "Duplicate row. Cannot add row."), w.response_data
    t = atlasapi.RequestCustomListsTable(payload={"objectgroupid": 73}, api_config_file=atlas_cfg, get_response=True)
    assert any(r["transient_object_id"] == atlas_obj["atlas_id"] for r in t.response_data)
    rm = atlasapi.RemoveFromCustomList(array_ids=np.array([atlas_obj["atlas_id"]]), list_name="vra", api_config_file=atlas_cfg)
    rm.get_response()
    assert rm.response_data == "No Content", rm.response_data
    cl = atlasapi.RequestATLASIDsFromWebServerList("mookodi", api_config_file=atlas_cfg)
    assert isinstance(cl.response_data, list)


@check("atlasapiclient write recipes (VRA scores, todo)")
def _():
    w = atlasapi.WriteToVRAScores(payload={"objectid": atlas_obj["atlas_id"], "preal": 0.9, "pgal": 0.1, "pfast": 0.2, "rank": 5.0, "debug": True}, api_config_file=atlas_cfg)
    w.get_response()
    assert w.response_data["info"] == "Row created.", w.response_data
    r = atlasapi.RequestVRAScores(payload={"objects": str(atlas_obj["atlas_id"]), "debug": True}, api_config_file=atlas_cfg, get_response=True)
    assert len(r.response_data) >= 1
    t = atlasapi.WriteToToDo(payload={"objectid": atlas_obj["atlas_id"]}, api_config_file=atlas_cfg)
    t.get_response()
    assert t.response_data["info"] in ("Row created.", "Duplicate row. Cannot add row.")


# ---------------------------------------------------------------- forced photometry (apiexample.py flow)
import requests  # noqa: E402


@check("forced photometry official example flow (token, queue, poll, download, delete)")
def _():
    base = URLS["forcedphot"]
    fp = CREDS["forcedphot"]
    resp = requests.post(url=f"{base}/api-token-auth/", data={"username": fp["username"], "password": fp["password"]}, timeout=60)
    assert resp.status_code == 200, resp.text
    token = resp.json()["token"]
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    task_url = None
    attempts = 0
    while not task_url:
        attempts += 1
        assert attempts < 20
        with requests.Session() as s:
            resp = s.post(f"{base}/queue/", headers=headers, data={"ra": atlas_obj["ra"], "dec": atlas_obj["dec"], "mjd_min": 60000.0}, timeout=60)
            if resp.status_code == 201:
                task_url = resp.json()["url"]
            elif resp.status_code == 429:
                message = resp.json()["detail"]
                t_sec = re.findall(r"available in (\d+) seconds", message)
                time.sleep(min(int(t_sec[0]) if t_sec else 10, 5))
            else:
                raise AssertionError(f"ERROR {resp.status_code} {resp.text}")
    result_url = None
    for _ in range(200):
        with requests.Session() as s:
            resp = s.get(task_url, headers=headers, timeout=60)
            assert resp.status_code == 200, resp.text
            j = resp.json()
            if j["finishtimestamp"]:
                assert not j["error_msg"], j["error_msg"]
                result_url = j["result_url"]
                break
            time.sleep(0.2)
    assert result_url, "task never finished"
    with requests.Session() as s:
        r = s.get(result_url, headers=headers, timeout=60)
        r.raise_for_status()
        textdata = r.text
        d = s.delete(task_url, headers=headers, timeout=60)
        assert d.status_code == 204 and d.content == b"", d.status_code
    import io
    import pandas as pd
    df = pd.read_csv(io.StringIO(textdata.replace("###", "")), sep=r"\s+")
    assert {"MJD", "uJy", "duJy", "F", "mag5sig", "Obs"} <= set(df.columns), df.columns
    assert len(df) > 0


if FAILURES:
    print(f"{len(FAILURES)} recipe(s) failed: {FAILURES}")
    sys.exit(1)
print("all peer recipes passed")
