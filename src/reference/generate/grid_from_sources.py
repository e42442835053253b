#!/usr/bin/env python3
"""Build the grid-intensity and cloud-region reference tables of carbon-gate.

Writes, next to this folder (src/reference/):
  grid_countries.csv     country grid intensity (Ember/OWID, lifecycle)
  grid_subdivisions.csv  US states (EPA eGRID2023) and Chinese provinces (MEE 2023)
  cloud_regions.csv      AWS, GCP and Azure regions with their grid factor and PUE
  pue.csv                PUE defaults

Inputs:
  * the data files inside the PyPI wheel codecarbon==3.3.2 (read from the installed
    package, never from the network);
  * pycountry (ISO 3166-1 / 3166-2 tables) to map alpha-3 -> alpha-2 and to check
    every subdivision code;
  * the small tables below (region -> location, Google per-region values for regions
    newer than CodeCarbon's copy, PUE), each with the public document it was read from.
    GRID-NOTES.md gives the full references.

Usage (see GRID-NOTES.md):
  python3 -m venv /tmp/grid-work/venv
  /tmp/grid-work/venv/bin/pip install --no-deps codecarbon==3.3.2 pycountry==26.2.16 botocore==1.44.18
  /tmp/grid-work/venv/bin/python src/reference/generate/grid_from_sources.py [--out DIR]

The script is deterministic: rows are sorted, numbers are written as the source gives
them (US eGRID values are converted from lb/MWh, see LB_TO_G).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from importlib import metadata
from pathlib import Path

import importlib.util

import pycountry

EXPECTED_CODECARBON = "3.3.2"

# 1 lb = 453.59237 g exactly (international avoirdupois pound), so
# lb/MWh x 453.59237 g/lb / 1000 kWh/MWh = g/kWh.
LB_TO_G = 453.59237

OWID_SOURCE = (
    "Ember & Energy Institute via Our World in Data 'Carbon intensity of electricity "
    "generation' (ourworldindata.org/grapher/carbon-intensity-electricity), as packaged in "
    "CodeCarbon {v} codecarbon/data/private_infra/global_energy_mix.json"
)

# World average. Ember, 2023, lifecycle: the same publisher, year and basis as most
# country rows. Read in Statista (citing Ember, July 2024), quoted in
# /work/shared/reference/regulation-and-methods.md section 7. IEA's 475 g/kWh (2019,
# CodeCarbon's fallback) is an older, combustion-CO2 figure and is not used.
WORLD = {
    "iso2": "XW",
    "iso3": "WLD",
    "country": "World",
    "g_per_kwh": "481",
    "year": "2023",
    "basis": "lifecycle",
    "source": (
        "Ember global power-sector emissions intensity 2023 ('481 grams of carbon dioxide per "
        "kilowatt-hour'), via Statista statistic 943137 (July 2024); chosen over IEA 475 g/kWh "
        "(2019, CodeCarbon fallback) to match the year and lifecycle basis of the country rows"
    ),
}

EGRID_SOURCE = (
    "US EPA eGRID2023 state annual CO2-equivalent total output emission rate (field STC2ERTA, "
    "{lb} lb/MWh x 453.59237 g/lb / 1000), as packaged in CodeCarbon {v} "
    "codecarbon/data/private_infra/2023/usa_emissions.json"
)
CHINA_SOURCE = (
    "China MEE & NBS Announcement 2025 No. 47, Table 3, provincial average electricity CO2 "
    "emission factor 2023 (CO2 only), as packaged in CodeCarbon {v} "
    "codecarbon/data/private_infra/2023/china_provincial_emissions.json"
)

GOOGLE_2023_SOURCE = (
    "Google 'Carbon free energy for Google Cloud regions' 2023 grid carbon intensity "
    "(cloud.google.com/sustainability/region-carbon; GoogleCloudPlatform/region-carbon-info "
    "data/yearly/2023.csv), as packaged in CodeCarbon {v} codecarbon/data/cloud/impact.csv"
)
GOOGLE_LATER_SOURCE = (
    "Google 'Carbon free energy for Google Cloud regions' {year} grid carbon intensity "
    "(GoogleCloudPlatform/region-carbon-info data/yearly/{year}.csv); region not in the 2023 data"
)

# Google regions that are not in CodeCarbon's copy of the 2023 data: the value of the
# first year in which Google publishes the region (read in region-carbon-info
# data/yearly/2024.csv and 2025.csv).
GOOGLE_LATER = {
    "europe-north2": ("2.73", 2024),
    "northamerica-south1": ("305.00", 2024),
    "asia-southeast3": ("364.68", 2025),
}

# CodeCarbon 3.3.2 impact.csv misspells one region code; Google's 2023.csv has me-central1.
GCP_CODE_FIXES = {"me-cenrtal1": "me-central1"}

GCP_DOC = (
    "Google Cloud docs: 'Supported regions for the GKE On-Prem API' and Cloud Tasks "
    "'locations' (region description)"
)
# region -> (location as Google documents it, iso2, ISO 3166-2 subdivision or "")
GCP_REGIONS = {
    "africa-south1": ("Johannesburg, South Africa", "ZA", ""),
    "asia-east1": ("Changhua County, Taiwan", "TW", ""),
    "asia-east2": ("Hong Kong", "HK", ""),
    "asia-northeast1": ("Tokyo, Japan", "JP", ""),
    "asia-northeast2": ("Osaka, Japan", "JP", ""),
    "asia-northeast3": ("Seoul, South Korea", "KR", ""),
    "asia-south1": ("Mumbai, India", "IN", ""),
    "asia-south2": ("Delhi, India", "IN", ""),
    "asia-southeast1": ("Jurong West, Singapore", "SG", ""),
    "asia-southeast2": ("Jakarta, Indonesia", "ID", ""),
    "asia-southeast3": ("Bangkok", "TH", ""),
    "australia-southeast1": ("Sydney, Australia", "AU", ""),
    "australia-southeast2": ("Melbourne, Australia", "AU", ""),
    "europe-central2": ("Warsaw, Poland", "PL", ""),
    "europe-north1": ("Hamina, Finland", "FI", ""),
    "europe-north2": ("Stockholm", "SE", ""),
    "europe-southwest1": ("Madrid, Spain", "ES", ""),
    "europe-west1": ("St. Ghislain, Belgium", "BE", ""),
    "europe-west2": ("London, England", "GB", ""),
    "europe-west3": ("Frankfurt, Germany", "DE", ""),
    "europe-west4": ("Eemshaven, Netherlands", "NL", ""),
    "europe-west6": ("Zurich, Switzerland", "CH", ""),
    "europe-west8": ("Milan, Italy", "IT", ""),
    "europe-west9": ("Paris, France", "FR", ""),
    "europe-west10": ("Berlin, Germany", "DE", ""),
    "europe-west12": ("Turin, Italy", "IT", ""),
    "me-central1": ("Doha, Qatar", "QA", ""),
    "me-central2": ("Dammam, Saudi Arabia", "SA", ""),
    "me-west1": ("Tel Aviv, Israel", "IL", ""),
    "northamerica-northeast1": ("Montréal, Québec", "CA", "CA-QC"),
    "northamerica-northeast2": ("Toronto, Ontario", "CA", "CA-ON"),
    "northamerica-south1": ("Mexico", "MX", ""),
    "southamerica-east1": ("Osasco, São Paulo, Brazil", "BR", ""),
    "southamerica-west1": ("Santiago, Chile", "CL", ""),
    "us-central1": ("Council Bluffs, Iowa", "US", "US-IA"),
    "us-east1": ("Moncks Corner, South Carolina", "US", "US-SC"),
    "us-east4": ("Ashburn, Virginia", "US", "US-VA"),
    "us-east5": ("Columbus, Ohio", "US", "US-OH"),
    "us-south1": ("Dallas, Texas", "US", "US-TX"),
    "us-west1": ("The Dalles, Oregon", "US", "US-OR"),
    "us-west2": ("Los Angeles, California", "US", "US-CA"),
    "us-west3": ("Salt Lake City, Utah", "US", "US-UT"),
    "us-west4": ("Las Vegas, Nevada", "US", "US-NV"),
}
# Where the location string comes from a different Google page than GCP_DOC.
GCP_DOC_OVERRIDE = {
    "us-west3": "Google Cloud docs: Cloud Tasks 'locations' (the GKE On-Prem API page lists Los Angeles in error)",
    "africa-south1": "Google region-carbon-info data/yearly/2023.csv 'Location' column",
    "europe-north2": "Google Cloud docs: Workload Manager 'locations' (region description)",
    "northamerica-south1": "Google Cloud docs: Workload Manager 'locations' (region description)",
    "asia-southeast3": "Google region-carbon-info data/yearly/2025.csv 'Location' column",
}

# AWS's own machine-readable list of its Regions: the region table of the AWS SDK for Python
# (botocore, published by Amazon Web Services on PyPI), `botocore/data/endpoints.json`,
# `partitions[].regions.<code>.description` (e.g. "Europe (Paris)"). Checked by
# `check_aws_regions` when botocore is installed (GRID-NOTES.md).
AWS_BOTOCORE = "1.44.18"
AWS_DOC = (
    f"AWS region name in the AWS SDK for Python's region table (botocore {AWS_BOTOCORE}, "
    "botocore/data/endpoints.json, region 'description')"
)
# region -> (location = the parenthesised part of AWS's Region name, iso2, subdivision)
AWS_REGIONS = {
    "us-east-1": ("N. Virginia", "US", "US-VA"),
    "us-east-2": ("Ohio", "US", "US-OH"),
    "us-west-1": ("N. California", "US", "US-CA"),
    "us-west-2": ("Oregon", "US", "US-OR"),
    "ca-central-1": ("Canada (Central)", "CA", ""),
    "ca-west-1": ("Calgary", "CA", "CA-AB"),
    "af-south-1": ("Cape Town", "ZA", ""),
    "ap-east-1": ("Hong Kong", "HK", ""),
    "ap-south-1": ("Mumbai", "IN", ""),
    "ap-south-2": ("Hyderabad", "IN", ""),
    "ap-southeast-1": ("Singapore", "SG", ""),
    "ap-southeast-2": ("Sydney", "AU", ""),
    "ap-southeast-3": ("Jakarta", "ID", ""),
    "ap-southeast-4": ("Melbourne", "AU", ""),
    "ap-southeast-7": ("Thailand", "TH", ""),
    "ap-northeast-1": ("Tokyo", "JP", ""),
    "ap-northeast-2": ("Seoul", "KR", ""),
    "ap-northeast-3": ("Osaka", "JP", ""),
    "eu-central-1": ("Frankfurt", "DE", ""),
    "eu-central-2": ("Zurich", "CH", ""),
    "eu-west-1": ("Ireland", "IE", ""),
    "eu-west-2": ("London", "GB", ""),
    "eu-west-3": ("Paris", "FR", ""),
    "eu-south-1": ("Milan", "IT", ""),
    "eu-south-2": ("Spain", "ES", ""),
    "eu-north-1": ("Stockholm", "SE", ""),
    "il-central-1": ("Tel Aviv", "IL", ""),
    "me-south-1": ("Bahrain", "BH", ""),
    "me-central-1": ("UAE", "AE", ""),
    "sa-east-1": ("Sao Paulo", "BR", ""),
    "cn-north-1": ("Beijing", "CN", "CN-BJ"),
    "cn-northwest-1": ("Ningxia", "CN", "CN-NX"),
}

AZURE_DOC = (
    "Microsoft Learn 'Azure regions list' (learn.microsoft.com/azure/reliability/regions-list, "
    "ms.date 2025-09-23), 'Physical location' column"
)
# programmatic name -> (physical location, iso2, subdivision)
AZURE_REGIONS = {
    "australiacentral": ("Canberra", "AU", ""),
    "australiacentral2": ("Canberra", "AU", ""),
    "australiaeast": ("New South Wales", "AU", ""),
    "australiasoutheast": ("Victoria", "AU", ""),
    "austriaeast": ("Vienna", "AT", ""),
    "belgiumcentral": ("Brussels", "BE", ""),
    "brazilsouth": ("Sao Paulo State", "BR", ""),
    "brazilsoutheast": ("Rio", "BR", ""),
    "canadacentral": ("Toronto", "CA", "CA-ON"),
    "canadaeast": ("Quebec", "CA", "CA-QC"),
    "centralindia": ("Pune", "IN", ""),
    "centralus": ("Iowa", "US", "US-IA"),
    "chilecentral": ("Santiago", "CL", ""),
    "eastasia": ("Hong Kong SAR", "HK", ""),
    "eastus": ("Virginia", "US", "US-VA"),
    "eastus2": ("Virginia", "US", "US-VA"),
    "francecentral": ("Paris", "FR", ""),
    "francesouth": ("Marseille", "FR", ""),
    "germanynorth": ("Berlin", "DE", ""),
    "germanywestcentral": ("Frankfurt", "DE", ""),
    "indonesiacentral": ("Jakarta", "ID", ""),
    "israelcentral": ("Israel", "IL", ""),
    "italynorth": ("Milan", "IT", ""),
    "japaneast": ("Tokyo, Saitama", "JP", ""),
    "japanwest": ("Osaka", "JP", ""),
    "koreacentral": ("Seoul", "KR", ""),
    "koreasouth": ("Busan", "KR", ""),
    "malaysiawest": ("Kuala Lumpur", "MY", ""),
    "mexicocentral": ("Querétaro State", "MX", ""),
    "newzealandnorth": ("Auckland", "NZ", ""),
    "northcentralus": ("Illinois", "US", "US-IL"),
    "northeurope": ("Ireland", "IE", ""),
    "norwayeast": ("Norway", "NO", ""),
    "norwaywest": ("Norway", "NO", ""),
    "polandcentral": ("Warsaw", "PL", ""),
    "qatarcentral": ("Doha", "QA", ""),
    "southafricanorth": ("Johannesburg", "ZA", ""),
    "southafricawest": ("Cape Town", "ZA", ""),
    "southcentralus": ("Texas", "US", "US-TX"),
    "southindia": ("Chennai", "IN", ""),
    "southeastasia": ("Singapore", "SG", ""),
    "spaincentral": ("Madrid", "ES", ""),
    "swedencentral": ("Gävle", "SE", ""),
    "switzerlandnorth": ("Zurich", "CH", ""),
    "switzerlandwest": ("Geneva", "CH", ""),
    "uaecentral": ("Abu Dhabi", "AE", ""),
    "uaenorth": ("Dubai", "AE", ""),
    "uksouth": ("London", "GB", ""),
    "ukwest": ("Cardiff", "GB", ""),
    "westcentralus": ("Wyoming", "US", "US-WY"),
    "westeurope": ("Netherlands", "NL", ""),
    "westindia": ("Mumbai", "IN", ""),
    "westus": ("California", "US", "US-CA"),
    "westus2": ("Washington", "US", "US-WA"),
    "westus3": ("Phoenix", "US", "US-AZ"),
}

# Provider PUE used on each cloud_regions.csv row.
PUE_BY_PROVIDER = {
    "gcp": (
        "1.10",
        "Google 2024 Environmental Report: average annual PUE of Google data centers in 2023 "
        "was 1.10 (blog.google/outreach-initiatives/sustainability/2024-environmental-report)",
    ),
    "aws": (
        "1.15",
        "AWS: 'In 2024, AWS data centers reported a global PUE of 1.15' "
        "(aws.amazon.com/sustainability/data-centers)",
    ),
    "azure": (
        "1.12",
        "Green Algorithms default for azure (GreenAlgorithms/green-algorithms-tool "
        "data/latest/defaults_PUE.csv, citing nutanix.dev 2023-05-04); not a Microsoft-published "
        "fleet figure",
    ),
}

# pue.csv: the FIRST row of each scope is the default (mod.rs pue_for() takes the first
# match); it is also marked "[default]" in its source.
PUE_ROWS = [
    ("industry-average", "1.58", "2023",
     "[default] Uptime Institute Global Data Center Survey 2023: 'In 2023, industry average PUE "
     "stood at 1.58' (also quoted in Google's 2024 Environmental Report)"),
    ("industry-average", "1.56", "2024",
     "Uptime Institute Global Data Center Survey 2024, as used by Green Algorithms for provider "
     "'Unknown' (defaults_PUE.csv, citing 2024.GlobalDataCenterSurvey.Report.pdf); primary report "
     "not read, so not the default"),
    ("gcp", "1.10", "2023", "[default] " + PUE_BY_PROVIDER["gcp"][1]),
    ("gcp", "1.12", "2023",
     "Green Algorithms default for gcp (defaults_PUE.csv, citing nutanix.dev 2023-05-04; year = "
     "that article's)"),
    ("aws", "1.15", "2024", "[default] " + PUE_BY_PROVIDER["aws"][1]),
    ("aws", "1.2", "2023",
     "Green Algorithms default for aws (defaults_PUE.csv, citing nutanix.dev 2023-05-04; year = "
     "that article's)"),
    ("azure", "1.12", "2023",
     "[default] Green Algorithms default for azure (defaults_PUE.csv, citing nutanix.dev "
     "2023-05-04; year = that article's); no Microsoft-published fleet PUE was read in a primary "
     "source"),
]


def data_dir() -> Path:
    version = metadata.version("codecarbon")
    if version != EXPECTED_CODECARBON:
        sys.exit(f"codecarbon {EXPECTED_CODECARBON} expected, found {version}")
    # find_spec locates the package without importing it (its __init__ needs psutil etc.;
    # only the data files are used, so the wheel is installed with --no-deps).
    spec = importlib.util.find_spec("codecarbon")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def num(x: float) -> str:
    """Shortest faithful text of a number already in the source (no rounding added)."""
    return repr(float(x)).removesuffix(".0") if float(x).is_integer() else repr(float(x))


def countries(dd: Path, v: str) -> tuple[list[list[str]], dict[str, dict]]:
    mix = json.loads((dd / "private_infra/global_energy_mix.json").read_text(encoding="utf-8"))
    rows, by_iso2 = [], {}
    for iso3, rec in mix.items():
        assert rec["iso_code"] == iso3, iso3
        c = pycountry.countries.get(alpha_3=iso3)
        if c is None:
            sys.exit(f"no ISO 3166-1 entry for {iso3}")
        ci = rec.get("carbon_intensity")
        if ci is None:
            continue
        row = {
            "iso2": c.alpha_2,
            "iso3": iso3,
            "country": rec["country_name"],
            "g_per_kwh": num(ci),
            "year": str(rec["year"]),
            "basis": "lifecycle",
            "source": OWID_SOURCE.format(v=v),
        }
        if row["iso2"] in by_iso2:
            sys.exit(f"duplicate iso2 {row['iso2']}")
        by_iso2[row["iso2"]] = row
    keys = list(WORLD)
    for r in sorted(by_iso2.values(), key=lambda r: r["iso2"]):
        rows.append([r[k] for k in keys])
    rows.append([WORLD[k] for k in keys])
    return rows, by_iso2


def subdivisions(dd: Path, v: str) -> tuple[list[list[str]], dict[str, dict]]:
    out = {}
    usa = json.loads((dd / "private_infra/2023/usa_emissions.json").read_text(encoding="utf-8"))
    assert usa["_unit"]["emissions"] == "lbs/MWh", usa["_unit"]
    assert usa["_source"]["field"] == "STC2ERTA" and usa["_source"]["year"] == 2023
    for key, rec in usa.items():
        if key.startswith("_") or key == "usa":  # "usa" is the national total, not a state
            continue
        code = "US-" + rec["regionCode"]
        sub = pycountry.subdivisions.get(code=code)
        if sub is None:
            sys.exit(f"unknown subdivision {code}")
        lb = rec["emissions"]
        g = round(lb * LB_TO_G / 1000, 3)
        out[code] = {
            "iso2": "US", "subdivision": code, "name": key.title().replace(" Of ", " of "),
            "g_per_kwh": num(g), "year": "2023", "basis": "direct",
            "source": EGRID_SOURCE.format(lb=num(lb), v=v),
        }
    cn = json.loads(
        (dd / "private_infra/2023/china_provincial_emissions.json").read_text(encoding="utf-8"))
    meta = cn["metadata"]
    assert meta["unit"] == "gCO2/kWh" and meta["year"] == 2023, meta
    for code, rec in cn["data"].items():
        if pycountry.subdivisions.get(code=code) is None:
            sys.exit(f"unknown subdivision {code}")
        assert rec["unit"] == "gCO2/kWh" and rec["year"] == 2023, rec
        out[code] = {
            "iso2": "CN", "subdivision": code, "name": rec["description"],
            "g_per_kwh": num(rec["emission_factor"]), "year": "2023", "basis": "direct",
            "source": CHINA_SOURCE.format(v=v),
        }
    keys = ["iso2", "subdivision", "name", "g_per_kwh", "year", "basis", "source"]
    rows = [[out[c][k] for k in keys] for c in sorted(out)]
    return rows, out


def fallback(provider, region, loc, iso2, sub, by_iso2, subs):
    """Grid factor for a region without a provider-published value."""
    if sub and sub in subs:
        s = subs[sub]
        label = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}[provider]
        src = (f"{sub} subdivision value ({s['source'].split(' (')[0]}, {s['year']}, "
               f"{s['basis']}) for {label} {region} {loc}")
        return s["g_per_kwh"], s["year"], s["basis"], src
    c = by_iso2.get(iso2)
    if c is None:
        return "", "", "", f"no grid factor: {iso2} has no country row"
    label = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}[provider]
    src = (f"{iso2} country value {c['year']} (Ember & Energy Institute via Our World in Data "
           f"'Carbon intensity of electricity generation', lifecycle) for {label} {region} {loc}")
    if sub:
        src += f"; no {sub} value in the sources used"
    return c["g_per_kwh"], c["year"], c["basis"], src


def check_aws_regions() -> None:
    """Every AWS region's location is its name in botocore's region table, when botocore is
    installed (pip install --no-deps botocore==AWS_BOTOCORE); skipped otherwise."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        print("botocore not installed: AWS region names not re-checked", file=sys.stderr)
        return
    if metadata.version("botocore") != AWS_BOTOCORE:
        sys.exit(f"botocore {metadata.version('botocore')} installed, the table cites {AWS_BOTOCORE}")
    data = json.loads((Path(spec.origin).parent / "data/endpoints.json").read_text())
    names = {code: r["description"] for p in data["partitions"] for code, r in p["regions"].items()}
    for code, (loc, _, _) in AWS_REGIONS.items():
        name = names.get(code)
        if name is None or not (name == loc or name.endswith(f"({loc})")):
            sys.exit(f"AWS region {code}: location {loc!r}, botocore names it {name!r}")


def cloud(dd: Path, v: str, by_iso2, subs) -> list[list[str]]:
    rows = []
    text = (dd / "cloud/impact.csv").read_text(encoding="utf-8-sig")  # file starts with a BOM
    google = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["provider"] != "gcp":
            continue
        code = GCP_CODE_FIXES.get(r["region"], r["region"])
        google[code] = (r["impact"], 2023, GOOGLE_2023_SOURCE.format(v=v))
    for code, (val, year) in GOOGLE_LATER.items():
        assert code not in google, code
        google[code] = (val, year, GOOGLE_LATER_SOURCE.format(year=year))
    missing = set(google) - set(GCP_REGIONS)
    if missing:
        sys.exit(f"GCP regions with a Google value but no location: {sorted(missing)}")
    pue, pue_src = PUE_BY_PROVIDER["gcp"]
    for code, (loc, iso2, sub) in sorted(GCP_REGIONS.items()):
        doc = GCP_DOC_OVERRIDE.get(code, GCP_DOC)
        if code in google:
            val, year, src = google[code]
            basis = "location"
            src = f"{src}; location: {doc}"
        else:
            val, year, basis, src = fallback("gcp", code, loc, iso2, sub, by_iso2, subs)
            src = f"{src}; location: {doc}"
        rows.append(["gcp", code, loc, iso2, sub, val, str(year), basis, src, pue, pue_src])
    for provider, table, doc in (("aws", AWS_REGIONS, AWS_DOC), ("azure", AZURE_REGIONS, AZURE_DOC)):
        pue, pue_src = PUE_BY_PROVIDER[provider]
        for code, (loc, iso2, sub) in sorted(table.items()):
            if sub and pycountry.subdivisions.get(code=sub) is None:
                sys.exit(f"unknown subdivision {sub}")
            val, year, basis, src = fallback(provider, code, loc, iso2, sub, by_iso2, subs)
            src = f"{src}; location: {doc}"
            rows.append([provider, code, loc, iso2, sub, val, year, basis, src, pue, pue_src])
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent)
    args = ap.parse_args()
    dd = data_dir()
    v = metadata.version("codecarbon")
    for rel in ("private_infra/global_energy_mix.json", "private_infra/2023/usa_emissions.json",
                "private_infra/2023/china_provincial_emissions.json", "cloud/impact.csv"):
        print(f"sha256 {sha256(dd / rel)}  codecarbon/data/{rel}")
    print(f"codecarbon {v}, pycountry {metadata.version('pycountry')}")

    crow, by_iso2 = countries(dd, v)
    write_csv(args.out / "grid_countries.csv",
              ["iso2", "iso3", "country", "g_per_kwh", "year", "basis", "source"], crow)
    srow, subs = subdivisions(dd, v)
    write_csv(args.out / "grid_subdivisions.csv",
              ["iso2", "subdivision", "name", "g_per_kwh", "year", "basis", "source"], srow)
    check_aws_regions()
    rrow = cloud(dd, v, by_iso2, subs)
    write_csv(args.out / "cloud_regions.csv",
              ["provider", "region", "location", "iso2", "subdivision", "g_per_kwh", "year",
               "basis", "source", "pue", "pue_source"], rrow)
    write_csv(args.out / "pue.csv", ["scope", "value", "year", "source"],
              [list(r) for r in PUE_ROWS])
    print(f"grid_countries.csv {len(crow)} rows, grid_subdivisions.csv {len(srow)} rows, "
          f"cloud_regions.csv {len(rrow)} rows, pue.csv {len(PUE_ROWS)} rows -> {args.out}")


if __name__ == "__main__":
    main()
