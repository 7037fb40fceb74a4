"""The demo catalog: invented titles and viewers whose ratings carry planted tastes.

A machine without a MovieLens copy still needs a catalog with real structure
for the recommender to find, so the ratings are drawn from a known model:

* every title has 1–3 genres (MovieLens's set and rough frequencies) and a
  latent popularity, Zipf-like over a random ranking;
* every viewer likes a few genres and dislikes a few others (a latent genre
  preference vector) and has a personal bias;
* a viewer picks the titles to rate with weight ``popularity * exp(k * affinity)``,
  where affinity is the mean of the viewer's preferences over the title's
  genres, so popular titles and liked genres are rated more often;
* the rating is ``mean + bias + affinity + quality + noise``, rounded to half
  stars and clipped to 0.5–5.0; quality leans towards the popular titles.

This module is plain Python and numpy (no Django) so that the maths is tested
without a database; ``catalog.services.demo_catalog_seed`` writes the result.
The same seed gives the same catalog. Titles, viewers and ratings each draw
from their own child generator, one viewer after another, so asking for more
viewers only adds viewers: the titles, and the first viewers with their
ratings, stay as they were.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from catalog.titles import sort_title_for


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEFAULT_TITLES = 3000
DEFAULT_VIEWERS = 300
YEARS = (1950, 2025)
MOVIE_RUNTIMES = (80, 180)
RATINGS_PER_VIEWER = (40, 150)
HISTORY = timedelta(days=3 * 365)
SERIES_SHARE = 0.1

#: The MovieLens genres, with their title counts in ml-latest-small as weights.
GENRE_WEIGHTS: dict[str, int] = {
    "Action": 1828,
    "Adventure": 1263,
    "Animation": 611,
    "Children": 664,
    "Comedy": 3756,
    "Crime": 1199,
    "Documentary": 440,
    "Drama": 4361,
    "Fantasy": 779,
    "Film-Noir": 87,
    "Horror": 978,
    "Musical": 334,
    "Mystery": 573,
    "Romance": 1596,
    "Sci-Fi": 980,
    "Thriller": 1894,
    "War": 382,
    "Western": 167,
}
GENRES: tuple[str, ...] = tuple(GENRE_WEIGHTS)

_GENRE_INDEX = {g: i for i, g in enumerate(GENRES)}
_GENRE_P = np.array(list(GENRE_WEIGHTS.values()), dtype=float)
_GENRE_P /= _GENRE_P.sum()

#: Genres that never share a title.
_CLASHES: dict[str, set[str]] = defaultdict(set)
for _a, _b in [
    ("Children", "Horror"),
    ("Children", "Film-Noir"),
    ("Children", "War"),
    ("Children", "Crime"),
    ("Children", "Thriller"),
    ("Documentary", "Fantasy"),
    ("Documentary", "Sci-Fi"),
    ("Documentary", "Film-Noir"),
    ("Documentary", "Horror"),
    ("Documentary", "Animation"),
    ("Film-Noir", "Animation"),
    ("Film-Noir", "Sci-Fi"),
    ("Film-Noir", "Fantasy"),
    ("Film-Noir", "Western"),
    ("Western", "Sci-Fi"),
]:
    _CLASHES[_a].add(_b)
    _CLASHES[_b].add(_a)

MATURITY_LEVELS = ("G", "PG", "PG-13", "R", "NC-17")
#: Chance of each maturity level (G, PG, PG-13, R, NC-17) per genre; a title
#: takes the strictest level drawn for its genres, and Children caps it at PG.
_MATURITY_P: dict[str, tuple[float, ...]] = {
    "Action": (0, 0.1, 0.55, 0.35, 0),
    "Adventure": (0.05, 0.35, 0.45, 0.15, 0),
    "Animation": (0.45, 0.45, 0.1, 0, 0),
    "Children": (0.6, 0.4, 0, 0, 0),
    "Comedy": (0.05, 0.25, 0.4, 0.3, 0),
    "Crime": (0, 0.02, 0.3, 0.66, 0.02),
    "Documentary": (0.2, 0.4, 0.3, 0.1, 0),
    "Drama": (0.03, 0.15, 0.4, 0.4, 0.02),
    "Fantasy": (0.1, 0.4, 0.4, 0.1, 0),
    "Film-Noir": (0, 0.3, 0.4, 0.3, 0),
    "Horror": (0, 0, 0.12, 0.85, 0.03),
    "Musical": (0.4, 0.4, 0.15, 0.05, 0),
    "Mystery": (0, 0.15, 0.5, 0.35, 0),
    "Romance": (0.05, 0.25, 0.45, 0.25, 0),
    "Sci-Fi": (0, 0.15, 0.55, 0.3, 0),
    "Thriller": (0, 0.02, 0.4, 0.58, 0),
    "War": (0, 0.1, 0.35, 0.55, 0),
    "Western": (0.05, 0.3, 0.3, 0.35, 0),
}
_RUNTIME_MEANS = {
    "Action": 118,
    "Adventure": 122,
    "Animation": 88,
    "Children": 86,
    "Comedy": 98,
    "Crime": 115,
    "Documentary": 92,
    "Drama": 120,
    "Fantasy": 118,
    "Film-Noir": 95,
    "Horror": 96,
    "Musical": 112,
    "Mystery": 108,
    "Romance": 108,
    "Sci-Fi": 120,
    "Thriller": 110,
    "War": 138,
    "Western": 115,
}
_SHORT_EPISODES = {"Comedy", "Animation", "Children"}
#: Chance of each name pattern in ``_name``.
_NAME_PATTERNS = (0.2, 0.17, 0.1, 0.03, 0.06, 0.06, 0.1, 0.1, 0.08, 0.1)
#: Chance that a name already taken is kept for a sequel ("… II") rather than
#: drawn again. (Kept: it decides how many draws the titles' generator makes.)
_SEQUEL_SHARE = 0.2
#: No word ends more than this share of the names (at least _FINAL_WORD_MIN).
_FINAL_WORD_SHARE = 0.003
_FINAL_WORD_MIN = 3
#: Draws of a fresh name or synopsis before falling back on a sequel or a name.
_REDRAWS = 60

_ADJECTIVES = _words(
    "Silent Midnight Broken Hidden Last Crimson Golden Distant Forgotten Burning "
    "Quiet Wild Frozen Endless Lonely Restless Savage Electric Velvet Northern "
    "Secret Final Bitter Fading Shattered Iron Paper Glass Scarlet Sleeping "
    "Falling Rising Borrowed Second Blue Black White Summer Winter Autumn Pale "
    "Hollow Open Long Little Stolen Southern Tender Violent Perfect Invisible "
    "Burnt Sacred Wandering Careless Narrow Empty Heavy Brilliant Gentle Cruel "
    "Wounded Salt Silver Copper Emerald Amber Ivory Dark Bright Lucky Hungry "
    "Strange Beautiful Dangerous Unfinished Drowned Painted Sunlit Thin"
)
_NOUNS = _words(
    "Harbor Protocol Horizon Garden Witness Signal River Kingdom Promise Frontier "
    "Echo Shadow Letter Empire Orchard Station Circuit Covenant Tide Lantern "
    "Crossing Inheritance Season Border Mirror Compass Hour Storm Ember Meridian "
    "Canyon Archive Engine Verdict Reckoning Voyage Sanctuary Carnival Labyrinth "
    "Paradox Requiem Alibi Outpost Lighthouse Island Highway Fortress Summit "
    "Current Cipher Road Night House Country Line Game Silence Arrangement "
    "Departure Harvest Ceremony Bargain Machine Sky Hotel Museum Ballad Frequency "
    "Passage Inventory Weather Flood Evidence Anthem Daughter Stranger Kingdom "
    "Map Dream Tower Ghost Orbit Rebellion Confession Secret Winter Coast"
)
#: More nouns, only for names drawn again (:func:`_distinct`): the first
#: draws keep to ``_NOUNS`` so that they stay what they were.
_MORE_NOUNS = _words(
    "Aquarium Arcade Atlas Avalanche Bakery Balcony Banquet Barricade Basement "
    "Beacon Belfry Blueprint Boardwalk Bonfire Boulevard Brewery Bridgeport Cabaret "
    "Cadence Caravan Carousel Cathedral Chandelier Chapel Chorus Cinder Citadel "
    "Clocktower Cloudburst Constellation Corridor Cottage Courtyard Crescent Crossroads "
    "Crown Curfew Dahlia Dispatch Dominion Dovetail Drawbridge Dynasty Eclipse Elegy "
    "Embassy Epilogue Equinox Estuary Exodus Fable Ferry Festival Firefly Fjord "
    "Foundry Fountain Foxglove Gallery Gambit Gazette Glacier Gondola Granary Greenhouse "
    "Hacienda Hammock Hangar Harmony Hearth Hideaway Hive Homestead Hurricane Icebreaker "
    "Infirmary Interlude Jamboree Jetty Jubilee Junction Keepsake Kite Lagoon Lament "
    "Landslide Larkspur Lattice Ledger Legacy Library Lifeboat Locket Lodge Lullaby "
    "Magnolia Mansion Marathon Marigold Market Masquerade Meadow Menagerie Mill "
    "Mirage Monastery Monsoon Mosaic Motel Mural Nocturne Oasis Observatory Odyssey "
    "Opera Overture Pageant Palisade Pantry Parade Pavilion Pendulum Periscope "
    "Pilgrimage Pinwheel Plantation Playhouse Porch Postcard Prairie Prelude Quarry "
    "Quartet Railway Rampart Ranch Refuge Regatta Relay Rendezvous Reservoir Residue "
    "Revival Riddle Rooftop Rosary Sabbatical Saloon Sawmill Scaffold Schoolhouse "
    "Sequence Serenade Shipyard Shoreline Showboat Skyline Snowdrift Solstice Sonata "
    "Spire Springtime Stairwell Starlight Stockade Sunflower Swansong Symphony "
    "Tapestry Tavern Telegram Terrace Thicket Tightrope Timberline Tollgate Trapeze "
    "Treaty Trellis Tributary Trombone Tundra Twilight Typewriter Valley Vineyard "
    "Vigil Waltz Warehouse Waterfall Wharf Whirlwind Wildflower Windmill Wishbone "
    "Woodland Workshop Zenith Zephyr"
)
_PLACES = (
    "Ashes",
    "Saint Clair",
    "Marrow Creek",
    "the North",
    "Broken Hill",
    "Tomorrow",
    "the Valley",
    "Lost Souls",
    "Port Avalon",
    "the Deep",
    "Kings",
    "Thieves",
    "Glass",
    "Silver Lake",
    "the Tides",
    "Blackwater",
    "Eden Falls",
    "the Lowlands",
    "Small Mercies",
    "Red Mesa",
    "Hollow Pines",
    "the Last Days",
    "Cold Harbor",
    "the Moon",
    "Seven Bridges",
    "Dust",
    "the Unknown",
    "Paper Towns",
)
_SINGLES = _words(
    "Undertow Afterglow Nightfall Threshold Quarantine Vendetta Overdrive Sundown "
    "Blackout Homecoming Wildfire Outlander Driftwood Crosswind Faultline "
    "Daybreak Lowlands Sidewinder Redemption Aftermath Wavelength Stillwater "
    "Freefall Riptide Moonrise Backwater Firebreak Landfall Bloodline Heatwave"
)
_ELEMENTS = _words(
    "Salt Ember Smoke Iron Bone Silk Ash Honey Thunder Rust Glass Stone Ink Rain "
    "Blood Gold Dust Wine Ice Fire Steel Roses Thorns Bread Lace Copper Feathers "
    "Ashes Bullets Lies Lightning Oranges Pearls Silver Snow Sugar Tears Velvet "
    "Wolves Ghosts"
)
_ROLES = _words(
    "Keeper Widow Stranger Soldier Prince Thief Captain Doctor Apprentice "
    "Gardener Pilot Hangman Diplomat Forger Ferryman Archivist Gambler Witness "
    "Sentinel Cartographer Tailor Beekeeper Detective Heiress Magician"
)
_PREPOSITIONS = _words("Beyond After Under Before Across Inside Against Behind")
_SURNAMES = _words(
    "Marlowe Hale Calloway Mercer Vance Ashford Quinn Sterling Doyle Ramsey "
    "Winslow Navarro Okafor Lindqvist Moreau Castillo Bishop Kowalski Abernathy "
    "Fontaine Hollis Ishikawa Mbeki Petrov Santos Thorne"
)
#: (adjectives, nouns) that flavour a title by its first genre.
_GENRE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Action": (
        _words("Maximum Rogue Lethal Steel Rapid"),
        _words("Strike Impact Vengeance Extraction Payload"),
    ),
    "Adventure": (
        _words("Lost Forbidden Uncharted Sunken Great"),
        _words("Expedition Treasure Temple Voyage Map"),
    ),
    "Animation": (
        _words("Wonderful Curious Flying Tiny Marvelous"),
        _words("Robot Fox Kingdom Lantern Snowflake"),
    ),
    "Children": (
        _words("Little Magic Brave Jolly Sunny"),
        _words("Puppy Treehouse Dragon Balloon Snowman"),
    ),
    "Comedy": (
        _words("Crazy Lucky Awkward Big Accidental"),
        _words("Weekend Wedding Roommate Vacation Reunion"),
    ),
    "Crime": (
        _words("Dirty Crooked Cold Clean Dead"),
        _words("Heist Racket Syndicate Score Verdict"),
    ),
    "Documentary": (
        _words("Real Untold Living Hidden Invisible"),
        _words("Reef Factory Orchestra Election Glacier"),
    ),
    "Drama": (
        _words("Ordinary Quiet Bitter Tender Small"),
        _words("Marriage Homecoming Confession Sister Inheritance"),
    ),
    "Fantasy": (
        _words("Enchanted Ancient Elven Shadowed Sacred"),
        _words("Sorcerer Crown Realm Oracle Quest"),
    ),
    "Film-Noir": (
        _words("Naked Deadly Dark Lonely Crooked"),
        _words("Dame Street Double-Cross Alibi Kiss"),
    ),
    "Horror": (
        _words("Cursed Bleeding Rotten Wicked Hollow"),
        _words("Hunger Séance Crypt Haunting Coven"),
    ),
    "Musical": (
        _words("Singing Dancing Starlit Swinging Golden"),
        _words("Melody Rhapsody Serenade Chorus Ballroom"),
    ),
    "Mystery": (
        _words("Missing Locked Curious Vanishing Twelfth"),
        _words("Clue Riddle Disappearance Manor Stranger"),
    ),
    "Romance": (
        _words("Sweet Tender Endless Secret Sudden"),
        _words("Heart Kiss Affair Honeymoon Proposal"),
    ),
    "Sci-Fi": (
        _words("Quantum Orbital Synthetic Stellar Infinite"),
        _words("Colony Android Singularity Nebula Protocol"),
    ),
    "Thriller": (
        _words("Deadly Dark Fatal Hostile Blind"),
        _words("Conspiracy Target Pursuit Trap Countdown"),
    ),
    "War": (
        _words("Fallen Bloody Distant Last Burning"),
        _words("Battalion Trenches Front Regiment Bridge"),
    ),
    "Western": (
        _words("Dusty Lawless Lone Wild High"),
        _words("Rider Gunslinger Outlaw Saddle Sheriff"),
    ),
}
#: (protagonists, predicates) for a one-sentence synopsis by first genre.
_PLOTS: dict[str, tuple[list[str], list[str]]] = {
    "Action": (
        ["a disgraced bodyguard", "an ex-special forces medic", "a getaway driver"],
        [
            "has one night to get a witness across the city",
            "fights back when a routine job turns into a hostage crisis",
            "goes rogue to stop a stolen weapon from changing hands",
        ],
    ),
    "Adventure": (
        ["a young cartographer", "a washed-up treasure hunter", "a ship's cook"],
        [
            "follows a century-old map toward a city of gold",
            "crosses a frozen range to keep a promise made to a dying friend",
            "races a rival expedition to a temple swallowed by the jungle",
        ],
    ),
    "Animation": (
        ["a small robot", "a curious fox", "a lighthouse keeper's daughter"],
        [
            "sets out to find the star that fell behind the hills",
            "learns to fly with the help of an unlikely flock",
            "must return a lost dragon egg before winter",
        ],
    ),
    "Children": (
        ["a shy nine-year-old", "a talking puppy", "a family of mice"],
        [
            "discovers that the treehouse at the end of the garden is magic",
            "organises the best birthday party the town has ever seen",
            "helps a lost balloon find its way home",
        ],
    ),
    "Comedy": (
        ["an anxious best man", "a food-truck owner", "a retired magician"],
        [
            "has to keep a wedding on track after losing the rings",
            "is forced to share a parking spot with a sworn rival",
            "accidentally becomes the star of a reality show",
        ],
    ),
    "Crime": (
        ["a veteran detective", "a young public defender", "a reformed safecracker"],
        [
            "reopens a cold case that the whole precinct wants buried",
            "takes on a client everyone is certain is guilty",
            "is pulled back in for one last job",
        ],
    ),
    "Documentary": (
        ["a young filmmaker", "a veteran reporter", "a small camera crew"],
        [
            "spends a year with divers fighting for a reef on the edge of collapse",
            "follows a town orchestra preparing the concert that could save it",
            "follows a first-time candidate through the closest election in memory",
        ],
    ),
    "Drama": (
        ["a widowed farmer", "an ambitious young surgeon", "an estranged daughter"],
        [
            "faces the choice between the family land and a new life",
            "learns what ambition costs during one punishing year",
            "returns home to settle her mother's affairs",
        ],
    ),
    "Fantasy": (
        ["an apprentice sorcerer", "a banished princess", "a mapmaker's son"],
        [
            "must master a forbidden spell before the eclipse",
            "gathers an unlikely band to reclaim a stolen crown",
            "finds a door to a realm that is slowly fading",
        ],
    ),
    "Film-Noir": (
        ["a down-on-his-luck private eye", "a nightclub singer", "an insurance clerk"],
        [
            "is hired to find a woman who does not want to be found",
            "witnesses a killing and trusts the wrong man",
            "falls for a widow whose story does not add up",
        ],
    ),
    "Horror": (
        ["a grieving mother", "a college student", "a night-shift nurse"],
        [
            "moves into a farmhouse that remembers its last family",
            "wakes something during a weekend at a lakeside cabin",
            "notices that the patients in ward nine never sleep",
        ],
    ),
    "Musical": (
        ["a choir director", "a street dancer", "an aging Broadway star"],
        [
            "bets everything on one last show",
            "auditions for the company that once said no",
            "stages a comeback with the help of a teenage songwriter",
        ],
    ),
    "Mystery": (
        ["a retired schoolteacher", "a crossword editor", "a country vicar"],
        [
            "investigates a disappearance at a snowbound manor",
            "finds a pattern in a string of anonymous letters",
            "untangles a secret kept for forty years",
        ],
    ),
    "Romance": (
        ["a burned-out chef", "a wedding photographer", "a lonely translator"],
        [
            "falls for the critic who panned the restaurant",
            "meets the one guest who refuses to be photographed",
            "finally meets the pen pal of twenty years",
        ],
    ),
    "Sci-Fi": (
        ["a lone engineer", "a freighter pilot", "a memory broker"],
        [
            "discovers that the colony's AI has been rewriting history",
            "answers a distress signal from a ship lost a century ago",
            "finds a memory that belongs to no one alive",
        ],
    ),
    "Thriller": (
        ["a cryptographer", "an air traffic controller", "a journalist"],
        [
            "uncovers a conspiracy hidden in a routine audit",
            "has ninety minutes to find out who is on flight 208",
            "becomes the target of the story under investigation",
        ],
    ),
    "War": (
        ["a young radio operator", "a field surgeon", "a stranded lieutenant"],
        [
            "holds a bridge for three days against impossible odds",
            "keeps a frontline hospital running through a brutal winter",
            "must cross enemy lines to reach the coast",
        ],
    ),
    "Western": (
        ["a reluctant sheriff", "a widowed rancher", "a bounty hunter"],
        [
            "stands alone when an outlaw gang rides into town",
            "defends the homestead against a railroad baron",
            "tracks a killer across a thousand miles of desert",
        ],
    ),
}
_SETTINGS = (
    "",
    " in a fading seaside town",
    " on the eve of a war",
    " in the hottest summer on record",
    " in a city that never forgives",
    " at the edge of the known world",
    " over one long weekend",
    " in a place where everyone keeps secrets",
    " as the storm of the century closes in",
)
_FIRST_NAMES = _words(
    "Ada Alex Amara Ben Camille Chen Dana Diego Elena Eli Farah Finn Grace Hugo "
    "Ines Ivan Jade Jonas Kai Kofi Lena Leo Lucia Malik Maya Mei Nadia Noah Omar "
    "Olivia Priya Quinn Rafael Rosa Sam Sana Theo Tomas Uma Victor Wen Yara Yusuf "
    "Zoe Aiko Bruno Clara Dev Emeka Freya"
)
_INITIALS = "ABCDEFGHJKLMNOPRSTVW"

# The planted model.
_MEAN_RATING = 2.8
_VIEWER_BIAS_SD = 0.3
_QUALITY_SD = 0.3
_POPULARITY_BONUS = 0.4  # most popular title +0.4, least popular -0.4
_NOISE_SD = 0.55
_ZIPF_EXPONENT = 0.8
_CHOICE_AFFINITY = 2.0  # how strongly liked genres attract a viewer's choices
_LIKED = (2, 3)
_DISLIKED = (2, 3)
_STRENGTH = (0.9, 1.5)
_NEUTRAL_SD = 0.15


@dataclass(frozen=True)
class DemoTitle:
    title: str
    kind: str  # "movie" or "series", the values of Title.Kind
    year: int
    end_year: int | None
    runtime_minutes: int  # a series' typical episode
    maturity_rating: str  # "G", "PG", "PG-13", "R" or "NC-17"
    genres: tuple[str, ...]  # the first one sets the name and synopsis
    synopsis: str
    added_at: datetime
    popularity: float  # latent Zipf weight; sums to 1 over the catalog


@dataclass(frozen=True)
class DemoViewer:
    number: int  # from 1
    name: str
    liked_genres: tuple[str, ...]
    disliked_genres: tuple[str, ...]
    joined_at: datetime


@dataclass(frozen=True)
class DemoRating:
    viewer: int  # index into DemoCatalog.viewers
    title: int  # index into DemoCatalog.titles
    value: float
    rated_at: datetime


@dataclass(frozen=True)
class DemoCatalog:
    titles: tuple[DemoTitle, ...]
    viewers: tuple[DemoViewer, ...]
    ratings: tuple[DemoRating, ...]


def half_stars(x: np.ndarray) -> np.ndarray:
    """Rounds to the nearest half star (halves up), clipped to 0.5–5.0."""
    return np.clip(np.floor(x * 2 + 0.5) / 2, 0.5, 5.0)


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _genres(rng: np.random.Generator) -> tuple[str, ...]:
    weights = _GENRE_P.copy()
    chosen: list[str] = []
    for _ in range(int(rng.choice([1, 2, 3], p=[0.35, 0.4, 0.25]))):
        if weights.sum() == 0:
            break
        genre = GENRES[int(rng.choice(len(GENRES), p=weights / weights.sum()))]
        chosen.append(genre)
        for ruled_out in {genre} | _CLASHES[genre]:
            weights[_GENRE_INDEX[ruled_out]] = 0
    return tuple(chosen)


def _year(rng: np.random.Generator, genres: tuple[str, ...]) -> int:
    first, last = YEARS
    if "Film-Noir" in genres:
        return first + int(15 * rng.beta(1.0, 3.0))
    return last - int((last - first) * rng.beta(1.3, 3.2))


def _maturity(rng: np.random.Generator, genres: tuple[str, ...]) -> str:
    level = max(int(rng.choice(5, p=_MATURITY_P[g])) for g in genres)
    if "Children" in genres:
        level = min(level, MATURITY_LEVELS.index("PG"))
    return MATURITY_LEVELS[level]


def _name(rng: np.random.Generator, genre: str, *, more: bool = False) -> str:
    """A name flavoured by ``genre``; ``more`` draws from the larger noun list."""
    genre_adjectives, genre_nouns = _GENRE_WORDS[genre]
    adjective = _pick(rng, genre_adjectives if rng.random() < 0.3 else _ADJECTIVES)
    nouns = _NOUNS + _MORE_NOUNS if more else _NOUNS
    noun = _pick(rng, genre_nouns if rng.random() < 0.3 else nouns)
    if genre == "Documentary" and rng.random() < 0.5:
        return f"Inside the {noun}" if rng.random() < 0.5 else f"{noun}: A Portrait"
    match int(rng.choice(len(_NAME_PATTERNS), p=_NAME_PATTERNS)):
        case 0:
            return f"The {adjective} {noun}"
        case 1:
            return f"{adjective} {noun}"
        case 2:
            return f"The {noun} of {_pick(rng, _PLACES)}"
        case 3:
            return _pick(rng, _SINGLES)
        case 4:
            return f"{_pick(rng, _SURNAMES)}'s {noun}"
        case 5:
            return f"{adjective} {_pick(rng, _SINGLES)}"
        case 6:
            first, second = rng.choice(len(_ELEMENTS), 2, replace=False)
            return f"{_ELEMENTS[first]} and {_ELEMENTS[second]}"
        case 7:
            return f"The {_pick(rng, _ROLES)}'s {noun}"
        case 8:
            return f"{_pick(rng, _PREPOSITIONS)} the {noun}"
        case _:
            return f"The {adjective} {_pick(rng, _ROLES)}"


def _synopsis(rng: np.random.Generator, genre: str, *, named: bool = False) -> str:
    """One sentence: who, what, where; ``named`` gives the protagonist a name
    ("A retired magician, Ada Marlowe, is forced to…")."""
    protagonists, predicates = _PLOTS[genre]
    who = _pick(rng, protagonists)
    if named:
        who = f"{who}, {_pick(rng, _FIRST_NAMES)} {_pick(rng, _SURNAMES)},"
    sentence = f"{who} {_pick(rng, predicates)}"
    return f"{sentence[0].upper()}{sentence[1:]}{_pick(rng, _SETTINGS)}."


def _roman(n: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, numeral in numerals:
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _final_word(name: str) -> str:
    """The word a title ends on ("Harvest" for "The Golden Harvest")."""
    return name.replace(":", " ").split()[-1].lower()


def _distinct(rng: np.random.Generator, titles: list[DemoTitle]) -> list[DemoTitle]:
    """Every title its own name and its own synopsis, and no word ending more
    than a few names ("… Harvest" fourteen times reads like a template).

    A name or synopsis drawn in :func:`_titles` stays when it is free; one
    that repeats is drawn again from ``rng`` (a generator of its own, so the
    titles' genres, years and popularity, and with them the planted tastes,
    are the same as before). When the words run out, a name becomes a
    numbered sequel and a synopsis names its protagonist.
    """
    most_per_final = max(_FINAL_WORD_MIN, math.ceil(len(titles) * _FINAL_WORD_SHARE))
    names: set[str] = set()
    finals: Counter[str] = Counter()
    synopses: set[str] = set()
    out = []
    for title in titles:
        genre = title.genres[0]
        name = title.title
        for _ in range(_REDRAWS):
            if sort_title_for(name) not in names and (
                finals[_final_word(name)] < most_per_final
            ):
                break
            name = _name(rng, genre, more=True)
        n = 2
        base = name
        while sort_title_for(name) in names:
            name = f"{base} {_roman(n)}"
            n += 1
        names.add(sort_title_for(name))
        finals[_final_word(name)] += 1
        synopsis = title.synopsis
        for _ in range(_REDRAWS):
            if synopsis not in synopses:
                break
            synopsis = _synopsis(rng, genre)
        while synopsis in synopses:
            synopsis = _synopsis(rng, genre, named=True)
        synopses.add(synopsis)
        out.append(replace(title, title=name, synopsis=synopsis))
    return out


def _titles(
    rng: np.random.Generator,
    words_rng: np.random.Generator,
    count: int,
    until: datetime,
) -> tuple[list[DemoTitle], np.ndarray]:
    """The titles, and each one's latent quality (its rating offset)."""
    start = until - HISTORY
    ranks = rng.permutation(count) + 1
    weights = ranks.astype(float) ** -_ZIPF_EXPONENT
    popularity = weights / weights.sum()
    spread = (ranks - 1) / max(count - 1, 1)
    quality = _POPULARITY_BONUS * (1 - 2 * spread) + rng.normal(0, _QUALITY_SD, count)
    titles = []
    taken: set[str] = set()
    for i in range(count):
        genres = _genres(rng)
        year = _year(rng, genres)
        is_series = "Film-Noir" not in genres and rng.random() < SERIES_SHARE
        if is_series:
            short = genres[0] in _SHORT_EPISODES
            runtime = int(rng.integers(20, 31) if short else rng.integers(40, 61))
            ended = year < YEARS[1] and rng.random() < 0.5
            end_year = min(year + int(rng.integers(1, 9)), YEARS[1]) if ended else None
        else:
            mean = np.mean([_RUNTIME_MEANS[g] for g in genres])
            runtime = int(np.clip(round(rng.normal(mean, 14)), *MOVIE_RUNTIMES))
            end_year = None
        released = datetime(year, 1, 1, tzinfo=UTC) + timedelta(
            days=float(rng.uniform(0, 330))
        )
        if rng.random() < 0.7:  # the back catalog, there before the history starts
            added = start - timedelta(days=float(rng.uniform(0, 400)))
        else:
            added = start + HISTORY * float(rng.random())
        name = _name(rng, genres[0])
        for _ in range(20):
            if sort_title_for(name) not in taken or rng.random() < _SEQUEL_SHARE:
                break
            name = _name(rng, genres[0])
        taken.add(sort_title_for(name))
        titles.append(
            DemoTitle(
                title=name,
                kind="series" if is_series else "movie",
                year=year,
                end_year=end_year,
                runtime_minutes=runtime,
                maturity_rating=_maturity(rng, genres),
                genres=genres,
                synopsis=_synopsis(rng, genres[0]),
                added_at=min(max(added, released), until).replace(microsecond=0),
                popularity=float(popularity[i]),
            )
        )
    return _distinct(words_rng, titles), quality


def _viewers(
    rng: np.random.Generator, count: int, until: datetime
) -> tuple[list[DemoViewer], np.ndarray, np.ndarray]:
    """The viewers, their genre preference vectors and their biases."""
    taste_p = np.sqrt(_GENRE_P) / np.sqrt(_GENRE_P).sum()
    preferences = np.empty((count, len(GENRES)))
    biases = np.empty(count)
    viewers = []
    for v in range(count):
        preferences[v] = rng.normal(0, _NEUTRAL_SD, len(GENRES))
        biases[v] = rng.normal(0, _VIEWER_BIAS_SD)
        liked_n = int(rng.integers(_LIKED[0], _LIKED[1] + 1))
        disliked_n = int(rng.integers(_DISLIKED[0], _DISLIKED[1] + 1))
        picked = rng.choice(
            len(GENRES), size=liked_n + disliked_n, replace=False, p=taste_p
        )
        liked, disliked = picked[:liked_n], picked[liked_n:]
        preferences[v, liked] = rng.uniform(*_STRENGTH, liked_n)
        preferences[v, disliked] = -rng.uniform(*_STRENGTH, disliked_n)
        joined = until - HISTORY + HISTORY * float(rng.uniform(0, 0.85))
        viewers.append(
            DemoViewer(
                number=v + 1,
                name=f"{_pick(rng, _FIRST_NAMES)} {_pick(rng, _INITIALS)}.",
                liked_genres=tuple(GENRES[g] for g in sorted(liked)),
                disliked_genres=tuple(GENRES[g] for g in sorted(disliked)),
                joined_at=joined.replace(microsecond=0),
            )
        )
    return viewers, preferences, biases


def _ratings(
    rng: np.random.Generator,
    titles: list[DemoTitle],
    quality: np.ndarray,
    viewers: list[DemoViewer],
    preferences: np.ndarray,
    biases: np.ndarray,
    until: datetime,
) -> list[DemoRating]:
    membership = np.zeros((len(titles), len(GENRES)))
    for i, title in enumerate(titles):
        membership[i, [_GENRE_INDEX[g] for g in title.genres]] = 1
    membership /= membership.sum(axis=1, keepdims=True)
    log_popularity = np.log([t.popularity for t in titles])
    added_ago = np.array([(until - t.added_at).total_seconds() for t in titles])
    low, high = RATINGS_PER_VIEWER
    ratings = []
    for v, viewer in enumerate(viewers):
        affinity = membership @ preferences[v]
        count = min(len(titles), low + round((high - low) * rng.beta(1.1, 2.2)))
        # Gumbel top-k: a weighted draw without replacement, all at once.
        keys = (
            log_popularity + _CHOICE_AFFINITY * affinity + rng.gumbel(size=len(titles))
        )
        chosen = np.argsort(-keys, kind="stable")[:count]
        values = half_stars(
            _MEAN_RATING
            + biases[v]
            + affinity[chosen]
            + quality[chosen]
            + rng.normal(0, _NOISE_SD, count)
        )
        joined_ago = (until - viewer.joined_at).total_seconds()
        seconds_ago = rng.random(count) * np.minimum(added_ago[chosen], joined_ago)
        order = np.argsort(-seconds_ago, kind="stable")
        ratings.extend(
            DemoRating(
                viewer=v,
                title=int(chosen[k]),
                value=float(values[k]),
                rated_at=until - timedelta(seconds=int(seconds_ago[k])),
            )
            for k in order
        )
    return ratings


def generate_demo_catalog(
    *,
    seed: int,
    titles: int = DEFAULT_TITLES,
    viewers: int = DEFAULT_VIEWERS,
    until: datetime,
) -> DemoCatalog:
    """A catalog of ``titles`` titles rated by ``viewers`` viewers.

    Every timestamp falls in the three years before ``until`` (an aware
    datetime), except back-catalog titles, added before the history starts.
    A viewer rates a title only after both have arrived.
    """
    if titles < 1 or viewers < 1:
        raise ValueError("A demo catalog needs at least one title and one viewer.")
    # The fourth child only re-draws repeated names and synopses: the first
    # three draw what they always drew.
    title_rng, viewer_rng, rating_rng, words_rng = np.random.default_rng(seed).spawn(4)
    demo_titles, quality = _titles(title_rng, words_rng, titles, until)
    demo_viewers, preferences, biases = _viewers(viewer_rng, viewers, until)
    demo_ratings = _ratings(
        rating_rng, demo_titles, quality, demo_viewers, preferences, biases, until
    )
    return DemoCatalog(
        titles=tuple(demo_titles),
        viewers=tuple(demo_viewers),
        ratings=tuple(demo_ratings),
    )


@dataclass(frozen=True)
class PlantedTastes:
    """What the demo's ratings are drawn from: ``expected[v, t]`` is viewer
    ``v``'s mean rating of title ``t`` (indices into ``DemoCatalog.viewers``
    and ``.titles``) before the noise (``noise_sd``) and the rounding."""

    expected: np.ndarray
    noise_sd: float

    def chance_of_at_least(self, stars: float) -> np.ndarray:
        """Each viewer's chance of rating each title ``stars`` or more (half
        stars round halves up, so 4 or more means a raw rating of 3.75 up)."""
        z = (self.expected - (stars - 0.25)) / self.noise_sd
        return 0.5 * (1 + _erf(z / math.sqrt(2)))


_erf = np.vectorize(math.erf, otypes=[float])


def planted_tastes(
    *,
    seed: int,
    titles: int = DEFAULT_TITLES,
    viewers: int = DEFAULT_VIEWERS,
    until: datetime,
) -> PlantedTastes:
    """The truth behind :func:`generate_demo_catalog` with the same arguments
    (for simulations that need to know what each viewer would enjoy)."""
    title_rng, viewer_rng, _, words_rng = np.random.default_rng(seed).spawn(4)
    demo_titles, quality = _titles(title_rng, words_rng, titles, until)
    _, preferences, biases = _viewers(viewer_rng, viewers, until)
    membership = np.zeros((len(demo_titles), len(GENRES)))
    for i, title in enumerate(demo_titles):
        membership[i, [_GENRE_INDEX[g] for g in title.genres]] = 1
    membership /= membership.sum(axis=1, keepdims=True)
    affinity = preferences @ membership.T
    expected = _MEAN_RATING + biases[:, None] + affinity + quality[None, :]
    return PlantedTastes(expected=expected, noise_sd=_NOISE_SD)
