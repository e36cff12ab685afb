"""The shipped replay scenarios: valid contract posts, in time order, with consistent ground truth."""

from __future__ import annotations

import json

import pytest

from monitor.errors import InputError
from monitor.post import Post
from monitor.scenarios import DEFAULT_SCENARIO, SCENARIO_DIR, SCENARIOS, scenario_path
from monitor.scenarios.generate import generate
from monitor.scenarios.recipes import RECIPES

# Lines in the default demo: enough to tell a story, few enough to replay in seconds.
DEFAULT_LINES = (1_500, 3_000)
INCIDENT_POSTS = (150, 600)
BACKGROUND_FACTOR = 3  # background posts per incident post, at least


def read_lines(name: str) -> list[dict]:
    with scenario_path(name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def first_sightings(lines: list[dict]) -> list[dict]:
    return [line for line in lines if "observed_at" not in line]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """A scenario's lines and truth: the shipped files, or the output of a recipe not shipped yet."""
    out = tmp_path_factory.mktemp("unshipped")
    cache: dict[str, tuple[list[dict], dict]] = {}

    def load(name: str) -> tuple[list[dict], dict]:
        if name not in cache:
            if name in SCENARIOS:
                posts, truth = scenario_path(name), SCENARIO_DIR / f"{name}.truth.json"
            else:
                posts, truth = generate(name, out)
            lines = [json.loads(line) for line in posts.read_text(encoding="utf-8").splitlines()]
            cache[name] = (lines, json.loads(truth.read_text(encoding="utf-8")))
        return cache[name]

    return load


def test_every_shipped_scenario_has_a_recipe():
    # A new recipe may be written and measured before its files are shipped; the checks below run on its
    # generated output meanwhile.
    assert set(SCENARIOS) <= set(RECIPES)
    assert DEFAULT_SCENARIO in SCENARIOS


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_line_is_a_valid_post(name, scenario):
    lines, _ = scenario(name)
    for number, data in enumerate(lines, start=1):
        post = Post.from_dict(data)
        assert post.created_at is not None and post.created_at.utcoffset() is not None, f"{name}:{number}"
        assert post.text.strip(), f"{name}:{number} has empty text"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_time_never_goes_backwards(name, scenario):
    clock = [Post.from_dict(data).seen_at for data in scenario(name)[0]]
    later = [
        (index, a, b) for index, (a, b) in enumerate(zip(clock, clock[1:], strict=False), start=2) if b < a
    ]
    assert later == [], f"{name}: line {later[:1]} goes back in time"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_reobservations_repeat_a_known_post_with_counts_that_only_grow(name, scenario):
    seen: dict[str, dict] = {}
    for data in scenario(name)[0]:
        if "observed_at" not in data:
            assert data["id"] not in seen, f"{name}: post {data['id']} first seen twice"
            seen[data["id"]] = data
            continue
        first = seen[data["id"]]
        assert data["text"] == first["text"] and data["created_at"] == first["created_at"]
        assert data["observed_at"] > data["created_at"]
        for count in ("reposts", "comments", "likes"):
            assert data[count] >= first[count]
        seen[data["id"]] = data


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_truth_names_posts_that_exist_and_never_twice(name, scenario):
    lines, truth = scenario(name)
    ids = {line["id"] for line in lines}
    incident_ids = [post_id for incident in truth["incidents"] for post_id in incident["post_ids"]]
    decoy_ids = [post_id for decoy in truth["decoys"] for post_id in decoy["post_ids"]]
    assert set(incident_ids) <= ids and set(decoy_ids) <= ids
    assert len(incident_ids) == len(set(incident_ids)), "a post belongs to two incidents"
    assert not set(incident_ids) & set(decoy_ids), "a post is both incident and decoy"
    assert truth["name"] == name and truth["start"] < truth["end"]
    created = {line["id"]: line["created_at"] for line in lines}
    for incident in truth["incidents"]:
        assert incident["first_post_at"] == min(created[post_id] for post_id in incident["post_ids"])


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_incidents_sit_in_several_times_more_background(name, scenario):
    lines, truth = scenario(name)
    posts = {line["id"] for line in lines}
    incident_ids = {post_id for incident in truth["incidents"] for post_id in incident["post_ids"]}
    for incident in truth["incidents"]:
        assert INCIDENT_POSTS[0] <= len(incident["post_ids"]) <= INCIDENT_POSTS[1], incident["id"]
    assert len(posts - incident_ids) >= BACKGROUND_FACTOR * len(incident_ids)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_post_says_its_brand_only_as_its_feed_would_tag_it(name, scenario):
    # The detector must find what a post is about as it would live: a brand's own search tags all it fetches
    # (homonyms too), and nothing else says which brand a post is about. No answer key rides on the posts.
    lines, truth = scenario(name)
    searches = {line["feed"] for line in lines if "brand" in line}
    assert {f"weibo-search:{incident['brand']}" for incident in truth["incidents"]} <= searches
    for line in lines:
        expected = line["feed"].removeprefix("weibo-search:") if line.get("feed") in searches else None
        assert line.get("brand") == expected, line["id"]


def test_default_scenario_has_a_demo_sized_number_of_lines():
    lines = read_lines(DEFAULT_SCENARIO)
    assert DEFAULT_LINES[0] <= len(lines) <= DEFAULT_LINES[1]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_texts_rarely_repeat(name, scenario):
    texts = [line["text"] for line in first_sightings(scenario(name)[0])]
    assert len(set(texts)) / len(texts) > 0.9


def test_authors_keep_their_reach_across_posts():
    reach: dict[str, tuple] = {}
    for line in read_lines(DEFAULT_SCENARIO):
        if line["source"] != "weibo":
            continue
        key = (line["author_followers"], line["author_verified"])
        assert reach.setdefault(line["author"], key) == key, line["author"]
    followers = sorted(followers for followers, _ in reach.values())
    median = followers[len(followers) // 2]
    assert 50 <= median <= 500, "most accounts should have tens to hundreds of followers"
    assert followers[-1] >= 1_000_000


@pytest.mark.parametrize("name", [name for name in sorted(RECIPES) if name in SCENARIOS])
def test_regenerating_gives_identical_files(name, tmp_path):
    posts_path, truth_path = generate(name, tmp_path)
    assert posts_path.read_bytes() == scenario_path(name).read_bytes()
    assert (
        truth_path.read_bytes()
        == (scenario_path(name).with_suffix("").with_suffix(".truth.json")).read_bytes()
    )


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(InputError, match="unknown scenario 'nope'"):
        scenario_path("nope")
