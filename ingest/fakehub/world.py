"""A seeded, evolving world of Civitai models and images and Hugging Face repos, 2023-01..2026-06.

Everything the simulated hub serves is computed from this world at a given instant, and so is
the ground truth a complete crawl must match. The world encodes the trends hubwatch measures:
a rising NSFW share, base models shifting (SD 1.5 -> SDXL -> Pony -> Flux/Illustrious/NoobAI),
anime/furry/photoreal tag families, cumulative downloads that only grow, deletions, takedowns
and archives, and real-person models that exist until the 2025-05-22 ban, then vanish from the
public API while some reappear on Hugging Face carrying the same file sha256. Images reach the
feed only once rated: most within minutes, some days or weeks after they were created.

The planted real-person names are taken from Civitai's own public-figure list (words-poi.json,
Apache-2.0), so the warehouse's name-match rule can find them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

WORLD_START = datetime(2023, 1, 1, tzinfo=UTC)
WORLD_END = datetime(2026, 6, 30, tzinfo=UTC)
BAN = datetime(2025, 5, 22, tzinfo=UTC)

# (base model name on Civitai, available from, weight once available, HF base repo)
BASE_MODELS = (
    ("SD 1.5", datetime(2023, 1, 1, tzinfo=UTC), 1.0, "stable-diffusion-v1-5/stable-diffusion-v1-5"),
    ("SDXL 1.0", datetime(2023, 7, 26, tzinfo=UTC), 1.6, "stabilityai/stable-diffusion-xl-base-1.0"),
    ("Pony", datetime(2024, 1, 5, tzinfo=UTC), 2.2, "stabilityai/stable-diffusion-xl-base-1.0"),
    ("Flux.1 D", datetime(2024, 8, 1, tzinfo=UTC), 2.0, "black-forest-labs/FLUX.1-dev"),
    (
        "Illustrious",
        datetime(2024, 10, 1, tzinfo=UTC),
        3.0,
        "OnomaAIResearch/Illustrious-xl-early-release-v0",
    ),
    ("NoobAI", datetime(2024, 11, 1, tzinfo=UTC), 1.2, "Laxhar/noobai-XL-1.0"),
)
FAMILY_TAGS = {
    "anime": ("anime", "manga", "waifu"),
    "hentai": ("hentai",),
    "furry": ("furry", "anthro"),
    "photoreal": ("photorealistic", "realistic", "photography"),
    "style": ("style", "illustration", "concept art"),
}
# Civitai's real-person tags, chosen so they never contradict the target's gender.
REAL_PERSON_TAGS = {
    "female": ("celebrity", "real person", "actress", "public figure", "porn actress"),
    "male": ("celebrity", "real person", "actor", "public figure"),
    "unknown": ("celebrity", "real person", "public figure"),
}
FEMALE_NAMES = (
    "amanda seyfried",
    "amy adams",
    "alicia keys",
    "adele",
    "rihanna",
    "shakira",
    "alyssa milano",
    "amber heard",
    "alicia silverstone",
    "ali macgraw",
    "alison krauss",
    "alanis morissette",
    "america ferrera",
    "amanda bynes",
    "amanda peet",
    "alfre woodard",
    "ashanti",
    "ciara",
    "kesha",
    "lorde",
    "fergie",
)
MALE_NAMES = ("adam driver", "aaron paul", "adrien brody", "al pacino")
# Generic words for ordinary model names: none is (or contains) a name on the public-figure list.
NAME_WORDS = (
    "dreamy",
    "neon",
    "cyber",
    "pastel",
    "vintage",
    "gothic",
    "cozy",
    "epic",
    "mystic",
    "sunset",
    "forest",
    "castle",
    "armor",
    "dragon",
    "robot",
    "knight",
    "garden",
    "ocean",
    "city",
    "mecha",
    "portrait",
    "landscape",
    "detail",
    "lighting",
    "ink",
    "watercolor",
    "pixel",
    "clay",
    "glass",
)
MODEL_TYPES = (("LORA", 0.62), ("Checkpoint", 0.15), ("TextualInversion", 0.1), ("LoCon", 0.13))
LEVELS = (1, 2, 4, 8, 16)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def clock_of(day: date) -> datetime:
    """The instant a simulated snapshot dated `day` is taken: noon UTC."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def progress(t: datetime) -> float:
    """0 at the world's start, 1 at its end: drives every trend."""
    span = (WORLD_END - WORLD_START).total_seconds()
    return min(1.0, max(0.0, (t - WORLD_START).total_seconds() / span))


@dataclass
class CivitaiFile:
    file_id: int
    name: str
    sha256: str  # upper-case hex, as Civitai serves it
    size_kb: float
    primary: bool
    type: str = "Model"


@dataclass
class CivitaiVersion:
    version_id: int
    name: str
    base_model: str
    created_at: datetime
    nsfw_level: int
    trained_words: list[str]
    files: list[CivitaiFile]
    downloads_per_day: float


@dataclass
class CivitaiModel:
    model_id: int
    name: str
    type: str
    creator: str
    tags: list[str]
    versions: list[CivitaiVersion]
    nsfw: bool
    poi: bool
    minor: bool
    family: str
    target_gender: str  # female | male | unknown (truth, for tests)
    real_person_name: str | None
    hides_downloads: bool = False
    never_listed: bool = False  # no visible version: dropped after the LIMIT (short pages)
    # listed with `modelVersions: []` (as seven real models of the July 2023 crawl were): no
    # version, file or creation date reaches a crawl, so the model is undated
    hides_versions: bool = False
    deleted_at: datetime | None = None
    taken_down_at: datetime | None = None
    archived_at: datetime | None = None
    # the counted downloads fall by this many at this instant (a deleted version, a hub correction)
    downloads_fall_at: datetime | None = None
    downloads_fall: int = 0

    @property
    def created_at(self) -> datetime:
        return self.versions[0].created_at

    @property
    def crawl_month(self) -> date | None:
        """The creation month a crawl can know (none when the API lists no version)."""
        return None if self.hides_versions else date(self.created_at.year, self.created_at.month, 1)

    def listed_versions_at(self, t: datetime) -> list[CivitaiVersion]:
        """The versions /models lists at t."""
        return [] if self.hides_versions else self.versions_at(t)

    def versions_at(self, t: datetime) -> list[CivitaiVersion]:
        return [v for v in self.versions if v.created_at <= t]

    def nsfw_level_at(self, t: datetime) -> int:
        if self.nsfw:
            return 60
        level = 0
        for version in self.versions_at(t):
            level |= version.nsfw_level
        return level

    def mode_at(self, t: datetime) -> str | None:
        if self.taken_down_at and self.taken_down_at <= t:
            return "TakenDown"
        if self.archived_at and self.archived_at <= t:
            return "Archived"
        return None

    def exists_at(self, t: datetime) -> bool:
        return self.created_at <= t and not (self.deleted_at and self.deleted_at <= t)

    def last_version_at(self, t: datetime) -> datetime:
        return self.versions_at(t)[-1].created_at

    def downloads_at(self, t: datetime) -> int:
        """downloadCount at t: cumulative, less a fall once it has happened (never below 0)."""
        fallen = self.downloads_fall if self.downloads_fall_at is not None and self.downloads_fall_at <= t else 0
        return self.downloads_before_fall(t) - fallen

    def downloads_before_fall(self, t: datetime) -> int:
        return int(sum(v.downloads_per_day * (t - v.created_at).total_seconds() / 86400 for v in self.versions_at(t)))

    def listed_at(self, t: datetime, mask: int, archived: bool) -> bool:
        """Would /models list this model at t for browsing mask `mask`?"""
        return self.selected_at(t, mask, archived) and not self.never_listed

    def selected_at(self, t: datetime, mask: int, archived: bool) -> bool:
        """The filters /models applies in SQL, before its LIMIT (never_listed drops after it)."""
        if not self.exists_at(t):
            return False
        if t >= BAN and (self.poi or self.minor):
            return False
        if self.mode_at(t) == "Archived" and not archived:
            return False
        level = self.nsfw_level_at(t)
        return level != 0 and level & mask != 0

    def by_id_visible_at(self, t: datetime) -> bool:
        """/models/{id}: all levels, archived included; POI and unrated still hidden."""
        return self.exists_at(t) and not (t >= BAN and self.poi) and self.nsfw_level_at(t) != 0


@dataclass
class CivitaiImage:
    image_id: int
    created_at: datetime
    browsing_level: int
    model_id: int
    version_id: int
    base_model: str
    username: str
    tags: list[str]
    poi: bool
    minor: bool
    deleted_at: datetime | None = None
    rated_at: datetime | None = None  # when its browsing level was set (None: at creation)
    # how the item says what it was made with (see RESOURCE_SHAPES), and a second model (a LoRA)
    resource_shape: str = "ids_only"
    extra_version_id: int | None = None
    prompt_extra: tuple[str, ...] = ()  # words the prompt holds besides its tags (see PROMPT_EXTRAS)
    negative_prompt: str | None = None

    def exists_at(self, t: datetime) -> bool:
        return self.created_at <= t and not (self.deleted_at and self.deleted_at <= t)

    def rated_by(self, t: datetime) -> bool:
        """Civitai lists an image only once it is rated (unrated images have no browsing level)."""
        return (self.rated_at or self.created_at) <= t

    def listed_at(self, t: datetime, mask: int, since: datetime | None) -> bool:
        """Would /images list this image at t for browsing mask `mask` and window start?"""
        if not self.exists_at(t) or not self.rated_by(t) or (since is not None and self.created_at <= since):
            return False
        if t >= BAN and (self.poi or self.minor):
            return False
        return self.browsing_level & mask != 0


@dataclass
class HfRepo:
    repo_id: str
    created_at: datetime
    tags: list[str]
    pipeline_tag: str | None
    library_name: str | None
    files: list[tuple[str, int, str | None]]  # (rfilename, size, lfs sha256 or None)
    downloads_per_day: float
    likes: int
    in_scope: bool  # truth: an image model or image adapter
    reupload_of: int | None = None  # the Civitai model it copies
    deleted_at: datetime | None = None
    modified_at: list[datetime] = field(default_factory=list)

    def exists_at(self, t: datetime) -> bool:
        return self.created_at <= t and not (self.deleted_at and self.deleted_at <= t)

    def sha_at(self, t: datetime) -> str:
        revisions = [self.created_at, *(m for m in self.modified_at if m <= t)]
        return hashlib.sha1(f"{self.repo_id}@{max(revisions).isoformat()}".encode()).hexdigest()  # noqa: S324

    def last_modified_at(self, t: datetime) -> datetime:
        return max([self.created_at, *(m for m in self.modified_at if m <= t)])


@dataclass
class World:
    models: list[CivitaiModel]
    images: list[CivitaiImage]
    repos: list[HfRepo]
    seed: int
    # the images in feed order, sorted once (see images_newest_first)
    _feed_order: tuple[list[CivitaiImage], int, list[CivitaiImage], list[tuple[int, int]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @cached_property
    def versions(self) -> dict[int, tuple[CivitaiModel, CivitaiVersion]]:
        return {v.version_id: (m, v) for m in self.models for v in m.versions}

    def images_newest_first(self) -> tuple[list[CivitaiImage], list[tuple[int, int]]]:
        """Every image in /images?sort=Newest order and its ascending sort key (-createdAt in ms,
        -id), for bisecting a cursor. Sorted once, and again only when `images` is replaced or
        changes length: an image's creation time and id never change once built (tests replace
        the list, or change when images are deleted or rated: those are read at request time)."""
        cached = self._feed_order
        if cached is None or cached[0] is not self.images or cached[1] != len(self.images):
            keyed = sorted(((-epoch_ms(i.created_at), -i.image_id), i) for i in self.images)
            cached = (self.images, len(self.images), [i for _, i in keyed], [k for k, _ in keyed])
            self._feed_order = cached
        return cached[2], cached[3]


def epoch_ms(t: datetime) -> int:
    """Milliseconds since the epoch: the precision of Civitai's timestamps and cursors."""
    return int(t.timestamp() * 1000)


def build_world(
    seed: int = 7, n_models: int = 400, n_images: int = 3000, n_repos: int = 150, versionless_share: float = 0.0
) -> World:
    """The world; versionless_share of its models are listed with `modelVersions: []` (chosen
    by a hash of their id, so the rest of the world is the same whatever the share)."""
    rng = random.Random(seed)
    models = _build_models(rng, n_models)
    for model in models:
        model.hides_versions = (
            int(sha256_hex(f"versionless-{seed}-{model.model_id}")[:8], 16) < versionless_share * 2**32
        )
    images = _build_images(rng, models, n_images)
    _rate_images(random.Random(f"ratings-{seed}"), images)  # its own generator: nothing else moves
    _attach_resources(random.Random(f"resources-{seed}"), images, models)  # likewise
    _write_prompts(random.Random(f"prompts-{seed}"), images)  # likewise
    repos = _build_repos(rng, models, n_repos)
    # with a stream of their own, so the rest of the world stays as it was
    _plant_real_shapes(random.Random(f"real-shapes-{seed}"), models, repos)
    plant_model_measures(seed, models, repos)  # counters that fall, the SD 1.5 lineage (issue #21)
    return World(models=models, images=images, repos=repos, seed=seed)


def _when(rng: random.Random, skew: float) -> datetime:
    """A creation instant; skew < 1 puts more of them late (the hubs grow)."""
    span = (WORLD_END - WORLD_START).total_seconds()
    return WORLD_START + timedelta(seconds=int(span * rng.random() ** skew))


def _base_model_at(rng: random.Random, t: datetime) -> str:
    names, weights = [], []
    for name, since, weight, _hf in BASE_MODELS:
        if t >= since:
            age = (t - since).days / 365
            names.append(name)
            weights.append(weight * (0.5 if name == "SD 1.5" and age > 1 else 1.0))
    return rng.choices(names, weights)[0]


def _showcase_level(rng: random.Random, t: datetime) -> int:
    """Bit-OR of a version's showcase image levels: NSFW grows over time."""
    nsfw = rng.random() < 0.3 + 0.4 * progress(t)
    pool = (1, 2, 4, 8, 16) if nsfw else (1, 2)
    level = 1 if rng.random() < 0.75 else 0  # most showcases include a PG image
    for _ in range(rng.randint(1, 3)):
        level |= rng.choice(pool)
    if nsfw and not level & 28:
        level |= rng.choice((4, 8, 16))
    return level


def _build_models(rng: random.Random, n: int) -> list[CivitaiModel]:
    created = sorted(_when(rng, 0.7) for _ in range(n))
    creators = [f"creator{k:03d}" for k in range(max(8, n // 6))]
    models, next_version, next_file = [], 100_000, 500_000
    for index, t0 in enumerate(created):
        model_id = 1_000 + index * 7
        kind = rng.choices([k for k, _ in MODEL_TYPES], [w for _, w in MODEL_TYPES])[0]
        family = rng.choice(list(FAMILY_TAGS))
        real_person = kind in ("LORA", "LoCon") and (rng.random() < (0.22 if t0 < BAN else 0.04))
        poi = real_person and t0 < BAN and rng.random() < 0.6
        gender, person = "unknown", None
        tags = [rng.choice(FAMILY_TAGS[family])]
        trained: list[str] = []
        if real_person:
            family = "photoreal"
            tags = ["photorealistic"]
            roll = rng.random()
            gender = "female" if roll < 0.9 else ("male" if roll < 0.96 else "unknown")
            names = FEMALE_NAMES if gender == "female" else MALE_NAMES
            person = rng.choice(names) if rng.random() < 0.75 or not poi else None
            if rng.random() < 0.5 or not (poi or person):
                tags.append(rng.choice(REAL_PERSON_TAGS[gender]))
            if gender == "female":
                tags.append(rng.choice(("woman", "female", "girl")))
                trained.append("1girl" if rng.random() < 0.3 else "")
            elif gender == "male":
                tags.append(rng.choice(("man", "male")))
        elif rng.random() < 0.4:
            tags.append(rng.choice(("woman", "girl", "female", "man", "character")))
        trained = [w for w in trained if w]
        words = rng.sample(NAME_WORDS, 2)
        if person:
            name = f"{person.title()} - {words[0]} LoRA"
            trained.append(person.split()[-1].lower() + "_" + words[0])
        else:
            name = f"{words[0].title()} {words[1].title()} {kind}"
        versions = []
        t = t0
        for v in range(1 + (rng.random() < 0.35) + (rng.random() < 0.15)):
            base = _base_model_at(rng, t)
            files = [
                CivitaiFile(
                    next_file,
                    f"{name.split()[0].lower()}_v{v + 1}.safetensors",
                    sha256_hex(f"civitai-file-{next_file}").upper(),
                    round(rng.uniform(9_000, 220_000), 3),
                    True,
                )
            ]
            next_file += 1
            versions.append(
                CivitaiVersion(
                    next_version,
                    f"v{v + 1}.0",
                    base,
                    t,
                    _showcase_level(rng, t) if not (real_person and rng.random() < 0.5) else rng.choice((1, 3, 7)),
                    list(trained),
                    files,
                    rng.uniform(0.5, 40.0) * (3 if real_person else 1),
                )
            )
            next_version += 1
            t = t + timedelta(days=rng.randint(5, 200))
            if t >= WORLD_END:
                break
        model = CivitaiModel(
            model_id=model_id,
            name=name,
            type=kind,
            creator=rng.choice(creators),
            tags=tags,
            versions=versions,
            nsfw=not real_person and rng.random() < 0.06,
            poi=poi,
            minor=not real_person and rng.random() < 0.01,
            family=family,
            target_gender=gender,
            real_person_name=person,
            hides_downloads=rng.random() < 0.03,
            never_listed=rng.random() < 0.03,
        )
        fate = rng.random()
        later = t0 + timedelta(days=rng.randint(10, 700))
        if later < WORLD_END:
            if fate < 0.05:
                model.deleted_at = later
            elif fate < 0.08:
                model.taken_down_at = later
            elif fate < 0.12:
                model.archived_at = later
        models.append(model)
    return models


def _image_level(rng: random.Random, t: datetime) -> int:
    f = progress(t)
    weights = (0.45 - 0.25 * f, 0.15, 0.15 + 0.05 * f, 0.15 + 0.1 * f, 0.1 + 0.1 * f)
    return rng.choices(LEVELS, weights)[0]


def _build_images(rng: random.Random, models: list[CivitaiModel], n: int) -> list[CivitaiImage]:
    created = sorted(_when(rng, 0.55) for _ in range(n))
    images, start = [], 0
    for index, t in enumerate(created):
        while start < len(models) and models[start].created_at <= t:
            start += 1
        if start == 0:
            t = models[0].created_at + timedelta(hours=1)
            start = 1
        model = models[rng.randrange(start)]
        version = model.versions_at(t)[-1] if model.versions_at(t) else model.versions[0]
        tags = [model.tags[0]]
        if rng.random() < 0.5:
            tags.append(rng.choice(("1girl", "woman", "solo", "outdoors", "portrait")))
        image = CivitaiImage(
            image_id=10_000_000 + index * 13,
            created_at=t,
            browsing_level=_image_level(rng, t),
            model_id=model.model_id,
            version_id=version.version_id,
            base_model=version.base_model,
            username=model.creator if rng.random() < 0.3 else f"user{rng.randrange(400):03d}",
            tags=tags,
            poi=model.poi,
            minor=model.minor,
        )
        if rng.random() < 0.03:
            image.deleted_at = t + timedelta(days=rng.randint(1, 400))
        images.append(image)
    return images


# How long an image waits for its rating (and so for the feed): most are rated by the automatic
# scan within minutes, some wait hours to days for a moderator, a few weeks. The shares are a
# plausible assumption for the simulation, not a measurement of Civitai.
RATING_DELAYS = (
    (0.90, timedelta(minutes=1), timedelta(hours=2)),
    (0.07, timedelta(hours=2), timedelta(days=3)),
    (0.03, timedelta(days=3), timedelta(days=40)),
)


def _rate_images(rng: random.Random, images: list[CivitaiImage]) -> None:
    shares = [share for share, _low, _high in RATING_DELAYS]
    for image in images:
        _share, low, high = rng.choices(RATING_DELAYS, shares)[0]
        image.rated_at = image.created_at + low + (high - low) * rng.random()


# How an image item names the models it was made with, as real items do (api_reference 1.6):
# `ids` modelVersionIds plus meta.civitaiResources (Civitai's generator, 2025+); `ids_only`
# modelVersionIds alone; `a1111` no ids, meta.resources / meta.hashes / "Model hash" with AutoV2
# hashes (and an embedding named without a hash); `autov1` only an old 8-hex "Model hash" that no
# crawl can resolve; `none` nothing at all (modelVersionIds: [], as the real 2025 item).
RESOURCE_SHAPES = (("ids", 0.35), ("ids_only", 0.15), ("a1111", 0.2), ("autov1", 0.1), ("none", 0.2))


def _attach_resources(rng: random.Random, images: list[CivitaiImage], models: list[CivitaiModel]) -> None:
    adapters = [m for m in models if m.type in ("LORA", "LoCon")]
    for image in images:
        image.resource_shape = rng.choices([s for s, _ in RESOURCE_SHAPES], [w for _, w in RESOURCE_SHAPES])[0]
        if image.resource_shape in ("ids", "ids_only", "a1111") and rng.random() < 0.4:
            earlier = [v for m in adapters for v in m.versions_at(image.created_at) if m.model_id != image.model_id]
            if earlier:
                image.extra_version_id = rng.choice(earlier).version_id


# Words a simulated prompt may hold besides the image's tags: quality tags (two eras), Civitai's
# NSFW words (on NSFW images, mostly), and minor-coded words (a noun; an adjective with a partial
# noun) on a few images of every rating, so that their co-occurrence with NSFW ratings is measured.
QUALITY_PREFIXES = (("masterpiece", "best quality"), ("score_9", "score_8_up", "score_7_up"), ())
NSFW_WORDS = ("nsfw", "nude", "topless")
MINOR_CODED = (("teenager",), ("young", "girl"), ("schoolgirl",))


def _write_prompts(rng: random.Random, images: list[CivitaiImage]) -> None:
    for image in images:
        extra = list(rng.choice(QUALITY_PREFIXES))
        if image.browsing_level >= 4 and rng.random() < 0.6:
            extra.append(rng.choice(NSFW_WORDS))
        if rng.random() < 0.06:
            extra.extend(rng.choice(MINOR_CODED))
        image.prompt_extra = tuple(extra)
        image.negative_prompt = "worst quality, low quality, nsfw" if rng.random() < 0.5 else None


def _build_repos(rng: random.Random, models: list[CivitaiModel], n: int) -> list[HfRepo]:
    repos: list[HfRepo] = []
    for _name, since, _w, hf_base in BASE_MODELS:
        if not any(r.repo_id == hf_base for r in repos):
            repos.append(
                _repo(
                    rng,
                    hf_base,
                    since - timedelta(days=60),
                    ["diffusers", "text-to-image"],
                    "text-to-image",
                    "diffusers",
                    in_scope=True,
                    base=None,
                )
            )
    for k in range(n):
        t = _when(rng, 0.6)
        roll = rng.random()
        if roll < 0.15:
            repos.append(
                _repo(
                    rng,
                    f"studio{k % 9}/image-model-{k}",
                    t,
                    ["diffusers", "text-to-image"],
                    "text-to-image",
                    "diffusers",
                    in_scope=True,
                    base=None,
                )
            )
        elif roll < 0.75:
            name, _since, _w, base = rng.choice([b for b in BASE_MODELS if b[1] <= t] or [BASE_MODELS[0]])
            tags = [
                "lora",
                "text-to-image",
                "diffusers",
                "template:sd-lora",
                f"base_model:{base}",
                f"base_model:adapter:{base}",
            ]
            if rng.random() < 0.1 + 0.3 * progress(t):
                tags.append("not-for-all-audiences")
            repos.append(
                _repo(
                    rng,
                    f"artist{k % 23}/{name.split()[0].lower()}-lora-{k}",
                    t,
                    tags,
                    "text-to-image",
                    "diffusers",
                    in_scope=True,
                    base=base,
                )
            )
        else:
            base = rng.choice(("meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B", "mistralai/Mistral-7B-v0.1"))
            tags = [
                "peft",
                "lora",
                "safetensors",
                f"base_model:{base}",
                f"base_model:adapter:{base}",
                "text-generation",
            ]
            repos.append(
                _repo(
                    rng,
                    f"nlp{k % 11}/chat-adapter-{k}",
                    t,
                    tags,
                    "text-generation",
                    "peft",
                    in_scope=False,
                    base=base,
                )
            )
    # Re-uploads after the ban: real-person models copied file-for-file to the Hub.
    hf_base_of = {name: hf for name, _s, _w, hf in BASE_MODELS}
    for model in models:
        if not model.poi or model.created_at >= BAN or rng.random() >= 0.45:
            continue
        version = model.versions_at(BAN)[-1]
        primary = version.files[0]
        t = BAN + timedelta(days=rng.randint(1, 60))
        base = hf_base_of[version.base_model]
        slug = f"{model.name.split(' - ')[0].lower().replace(' ', '-')}-{model.model_id}"
        tags = [
            "lora",
            "text-to-image",
            "diffusers",
            "template:sd-lora",
            "migrated",
            f"base_model:{base}",
            f"base_model:adapter:{base}",
        ]
        tags += rng.sample(["celebrity", "woman", "photorealistic", "sexy", "instagram"], 2)
        repo = HfRepo(
            repo_id=f"archive{model.model_id % 5}/{slug}",
            created_at=t,
            tags=tags,
            pipeline_tag="text-to-image",
            library_name="diffusers",
            files=[
                (".gitattributes", 1519, None),
                ("README.md", 812, None),
                (primary.name, int(primary.size_kb * 1024), primary.sha256.lower()),
            ],
            downloads_per_day=rng.uniform(1, 30),
            likes=rng.randint(0, 40),
            in_scope=True,
            reupload_of=model.model_id,
        )
        if rng.random() < 0.3:
            repo.deleted_at = t + timedelta(days=rng.randint(20, 120))
        repos.append(repo)
    return repos


def _repo(rng, repo_id, t, tags, pipeline_tag, library, *, in_scope, base) -> HfRepo:
    weights = f"{repo_id.split('/')[-1]}.safetensors"
    files = [(".gitattributes", 1519, None), ("README.md", rng.randint(300, 5000), None)]
    files.append((weights, rng.randint(10_000_000, 900_000_000), sha256_hex(f"hf-file-{repo_id}")))
    modified = [t + timedelta(days=rng.randint(1, 300)) for _ in range(rng.randint(0, 2))]
    return HfRepo(
        repo_id=repo_id,
        created_at=t,
        tags=tags,
        pipeline_tag=pipeline_tag,
        library_name=library,
        files=files,
        downloads_per_day=rng.uniform(0.5, 200),
        likes=rng.randint(0, 300),
        in_scope=in_scope,
        modified_at=sorted(m for m in modified if m < WORLD_END),
    )


# -- real shapes the rules must survive (issue #15) ----------------------------------------------
# In the real July 2023 crawl one VAE file, shipped beside checkpoints and real-person models
# alike, made ~170 unrelated models "real-person" by file hash, and fictional characters named
# like public figures matched the name list. The world plants the same shapes.
SHARED_VAE = ("vae-ft-mse-840000-ema-pruned.safetensors", sha256_hex("shared-file-vae-ft-mse-840000").upper())
SHARED_CONFIG = ("v1-inference.yaml", sha256_hex("shared-file-v1-inference-yaml").upper())
# Fictional characters whose names are on Civitai's public-figure list (and in hubwatch's
# ambiguous-names seed): (model name, trained word, Hugging Face repo of the same character).
NAMESAKES = (
    ("Queen Elizabeth - Azur Lane", "queen elizabeth (azur lane)", "artist3/queen-elizabeth-azur-lane-lora"),
    ("Drake (NIKKE)", "drake_(nikke)", None),
)
PLANTED_IDS = 900_000_000  # ids of planted files and versions: far from the world's own


def _plant_real_shapes(rng: random.Random, models: list[CivitaiModel], repos: list[HfRepo]) -> None:
    """A VAE and a config many unrelated models ship (real-person ones among them, one with the
    VAE uploaded as its weights), the VAE inside some Hugging Face pipelines, a real-person model's
    weights re-uploaded on Civitai under a plain name, and fictional characters named like public
    figures."""
    ids = iter(range(PLANTED_IDS, PLANTED_IDS + 100_000))

    def companion(name_sha: tuple[str, str], kind: str) -> CivitaiFile:
        return CivitaiFile(next(ids), name_sha[0], name_sha[1], 334_641.2, False, kind)

    real_person = [m for m in models if m.poi or m.real_person_name or "celebrity" in m.tags]
    for model in models:
        version = model.versions[0]
        if model.type == "Checkpoint" or rng.random() < 0.2 or model in real_person[:6]:
            version.files.append(companion(SHARED_VAE, "VAE"))
        if model.type == "Checkpoint" or (model in real_person and rng.random() < 0.2):
            version.files.append(companion(SHARED_CONFIG, "Config"))
    # a VAE uploaded as a model's own weights (the real crawl's varOrangemix), on a real-person model
    for poi in [m for m in models if m.poi and m.created_at < BAN][:1]:
        poi.versions[-1].files.append(CivitaiFile(next(ids), "vae.safetensors", SHARED_VAE[1], 334_641.2, False))
    # Hugging Face pipelines and LoRA repos holding the same VAE
    loras = [r for r in repos if "lora" in r.tags and r.in_scope and r.reupload_of is None]
    for repo in rng.sample(loras, min(6, len(loras))):
        repo.files.append(("vae/diffusion_pytorch_model.safetensors", 334_643_268, SHARED_VAE[1].lower()))
    # a real-person model's weights re-uploaded on Civitai under a plain name, without any tag
    # (of a model that stays listed long enough for snapshots to see both)
    source = next(
        (
            m
            for m in models
            if m.poi
            and m.real_person_name
            and m.created_at < BAN - timedelta(days=200)
            and not (m.deleted_at or m.taken_down_at or m.archived_at or m.never_listed)
        ),
        None,
    )
    next_id = max(m.model_id for m in models) + 7
    if source is not None:
        weights = source.versions[0].files[0]
        models.append(
            _planted_model(
                ids,
                next_id,
                "Dreamy Portrait LORA",
                source.created_at + timedelta(days=30),
                ["photorealistic"],
                [],
                [CivitaiFile(next(ids), "dreamy_portrait.safetensors", weights.sha256, weights.size_kb, True)],
                source.versions[0].base_model,
            )
        )
    for k, (name, trained_word, repo_id) in enumerate(NAMESAKES):
        t = WORLD_START + timedelta(days=200 + 150 * k)
        files = [
            CivitaiFile(next(ids), f"namesake_{k}.safetensors", sha256_hex(f"namesake-{k}").upper(), 9_000.0, True)
        ]
        models.append(
            _planted_model(ids, next_id + 7 * (k + 1), name, t, ["anime", "character"], [trained_word], files, "SD 1.5")
        )
        if repo_id:
            base = BASE_MODELS[0][3]
            tags = [
                "lora",
                "text-to-image",
                "diffusers",
                "template:sd-lora",
                f"base_model:{base}",
                f"base_model:adapter:{base}",
            ]
            repos.append(
                _repo(
                    rng, repo_id, t + timedelta(days=20), tags, "text-to-image", "diffusers", in_scope=True, base=base
                )
            )


def _planted_model(
    ids: Iterator[int],
    model_id: int,
    name: str,
    t: datetime,
    tags: list[str],
    trained: list[str],
    files: list[CivitaiFile],
    base: str,
) -> CivitaiModel:
    version = CivitaiVersion(next(ids), "v1.0", base, t, 3, list(trained), files, 5.0)
    return CivitaiModel(
        model_id=model_id,
        name=name,
        type="LORA",
        creator="creator000",
        tags=tags,
        versions=[version],
        nsfw=False,
        poi=False,
        minor=False,
        family="photoreal" if "photorealistic" in tags else "anime",
        target_gender="unknown",
        real_person_name=None,
    )


# -- shapes for the creators, engagement and SD 1.5 lineage measures (issue #21) ------------------
# Planted with a random stream of their own, after everything else, so the rest of the world stays
# as it was:
# - download counters that fall: Civitai's model downloadCount is a sum over the model's versions
#   and goes down when a version is deleted or the hub removes counted downloads; a few models lose
#   part of their count at one instant and grow again from there (real-person models among them);
# - the SD 1.5 lineage on Hugging Face: runwayml/stable-diffusion-v1-5 and its inpainting model
#   (there since 2022-10) leave the Hub on 2024-08-29; a community mirror (benjamin-paine) appears
#   the next day; a fine-tuned SD 1.5 checkpoint (Realistic Vision V5.1) and LoRAs on all of them,
#   some made before the removal and some after (a few deleted later);
# - Civitai models on SD 1.5's named derivatives (SD 1.5 LCM, SD 1.5 Hyper) and on SD 1.4 (its
#   predecessor, not its lineage).
SD15_REMOVED = datetime(2024, 8, 29, tzinfo=UTC)
RUNWAY_REPOS = ("runwayml/stable-diffusion-v1-5", "runwayml/stable-diffusion-inpainting")
SD15_MIRROR = "benjamin-paine/stable-diffusion-v1-5"
SD15_DERIVATIVE = "SG161222/Realistic_Vision_V5.1_noVAE"
MEASURES_IDS = 950_000_000  # ids of the files and versions planted here: far from the world's own


def plant_model_measures(seed: int, models: list[CivitaiModel], repos: list[HfRepo]) -> None:
    rng = random.Random(f"model-measures-{seed}")
    _plant_counter_falls(rng, models)
    _plant_sd15_lineage(rng, models, repos)


def _plant_counter_falls(rng: random.Random, models: list[CivitaiModel]) -> None:
    """About 4% of the models lose 20-60% of their counted downloads at one instant (a deleted
    version, a hub correction) and grow again from there; and three real-person models the ban does
    not hide (flagged by name, not `poi`) lose 80-95%, so that snapshots months apart see the fall."""
    real_person = [m for m in models if m.real_person_name and not m.poi and not m.minor]
    chosen = {id(m) for m in rng.sample(real_person, min(3, len(real_person)))}
    for model in models:
        if id(model) not in chosen and rng.random() >= 0.04:
            continue
        start = model.created_at + timedelta(days=20)
        if start >= WORLD_END:
            continue
        share = rng.uniform(0.8, 0.95) if id(model) in chosen else rng.uniform(0.2, 0.6)
        model.downloads_fall_at = start + (WORLD_END - start) * rng.random()
        model.downloads_fall = int(model.downloads_before_fall(model.downloads_fall_at) * share)


def _plant_sd15_lineage(rng: random.Random, models: list[CivitaiModel], repos: list[HfRepo]) -> None:
    pipeline = ["diffusers", "text-to-image", "safetensors"]
    launched = datetime(2022, 10, 20, tzinfo=UTC)
    for repo_id in RUNWAY_REPOS:
        repo = _repo(rng, repo_id, launched, pipeline, "text-to-image", "diffusers", in_scope=True, base=None)
        repo.deleted_at = SD15_REMOVED
        repos.append(repo)
    repos.append(
        _repo(
            rng,
            SD15_MIRROR,
            SD15_REMOVED + timedelta(days=1),
            pipeline,
            "text-to-image",
            "diffusers",
            in_scope=True,
            base=None,
        )
    )
    derivative_tags = [*pipeline, f"base_model:{RUNWAY_REPOS[0]}", f"base_model:finetune:{RUNWAY_REPOS[0]}"]
    repos.append(
        _repo(
            rng,
            SD15_DERIVATIVE,
            datetime(2023, 7, 31, tzinfo=UTC),
            derivative_tags,
            "text-to-image",
            "diffusers",
            in_scope=True,
            base=RUNWAY_REPOS[0],
        )
    )
    # LoRAs on the original, the mirror and the fine-tune, before and after the removal
    bases = (
        (RUNWAY_REPOS[0], datetime(2023, 1, 1, tzinfo=UTC), 10),
        (SD15_DERIVATIVE, datetime(2023, 8, 1, tzinfo=UTC), 5),
        (SD15_MIRROR, SD15_REMOVED + timedelta(days=2), 5),
    )
    k = 0
    for base, since, count in bases:
        for _ in range(count):
            t = since + (WORLD_END - timedelta(days=120) - since) * rng.random()
            tags = [
                "lora",
                "text-to-image",
                "diffusers",
                "template:sd-lora",
                f"base_model:{base}",
                f"base_model:adapter:{base}",
            ]
            repo = _repo(
                rng, f"sd15maker{k % 4}/sd15-lora-{k}", t, tags, "text-to-image", "diffusers", in_scope=True, base=base
            )
            if rng.random() < 0.2:
                repo.deleted_at = t + timedelta(days=rng.randint(30, 300))
            repos.append(repo)
            k += 1
    # Civitai models on SD 1.5's named derivatives, and on its predecessor SD 1.4 (not its lineage)
    ids = iter(range(MEASURES_IDS, MEASURES_IDS + 10_000))
    next_id = max(m.model_id for m in models) + 7
    creators = sorted({m.creator for m in models})
    for n, base in enumerate(("SD 1.5 LCM", "SD 1.5 Hyper", "SD 1.5 LCM", "SD 1.5 Hyper", "SD 1.4", "SD 1.4")):
        t = datetime(2023, 11, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 500))
        file_id = next(ids)
        files = [
            CivitaiFile(file_id, f"fast_{n}.safetensors", sha256_hex(f"sd15-derivative-{n}").upper(), 9_000.0, True)
        ]
        model = _planted_model(
            ids,
            next_id + 7 * n,
            f"{'Fast' if 'SD 1.5' in base else 'Classic'} Style {n} LORA",
            t,
            ["style"],
            [],
            files,
            base,
        )
        model.creator = rng.choice(creators)
        models.append(model)
