"""Tiny, hand-written files in each MovieLens layout, written out for the tests.

They live here as text, not as data files, so the repository holds nothing that
looks like (or could be mistaken for) the licensed MovieLens data; every title,
rating and timestamp is invented. ml-100k and ml-1m files are Latin-1, as the
real ones are; the CSV layout is UTF-8.
"""

import atexit
import shutil
import tempfile
from pathlib import Path

LATIN_1 = {"u.item", "movies.dat"}

SAMPLES: dict[str, dict[str, str]] = {
    "ml-100k": {
        "u.data": (
            "1\t1\t5\t1500043404\n"
            "1\t2\t4\t1500047021\n"
            "2\t1\t3\t1500061489\n"
            "2\t3\t5\t1500065106\n"
            "3\t4\t2\t1500050638\n"
            "3\t2\t1\t1500054255\n"
            "3\t5\t4\t1500057872\n"
        ),
        "u.item": (
            "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
            "2|Misérables, Les (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Miserables%2C%20Les%20(1995)|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0\n"
            "3|Third Man, The (1949)|01-Jan-1949||http://us.imdb.com/M/title-exact?Third%20Man%2C%20The%20(1949)|0|0|0|0|0|0|0|0|0|0|1|0|0|1|0|0|1|0|0\n"
            "4|Unforgiven (1992)|01-Jan-1992||http://us.imdb.com/M/title-exact?Unforgiven%20(1992)|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
            "5|Lamerica|01-Jan-1994||http://us.imdb.com/M/title-exact?Lamerica|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
        ),
    },
    "ml-1m": {
        "movies.dat": (
            "1::Toy Story (1995)::Animation|Children's|Comedy\n"
            "29::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
            "1172::Cinema Paradiso (Nuovo cinema Paradiso) (1988)::Comedy|Drama|Romance\n"
            "2571::Matrix, The (1999)::Action|Sci-Fi|Thriller\n"
        ),
        "ratings.dat": (
            "1::1::5::1500090425\n"
            "1::2571::4::1500094042\n"
            "2::29::3::1500079574\n"
            "2::1172::5::1500083191\n"
            "2::2571::5::1500086808\n"
        ),
    },
    "ml-latest-tiny": {
        "links.csv": (
            "movieId,imdbId,tmdbId\n"
            "1,0114709,862\n"
            "47,0114369,807\n"
            "2571,0133093,603\n"
            "108583,0072500,\n"
            "149532,4172224,\n"
        ),
        "movies.csv": (
            "movieId,title,genres\n"
            "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
            "47,Seven (a.k.a. Se7en) (1995),Mystery|Thriller\n"
            '2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller\n'
            "108583,Fawlty Towers (1975-1979),Comedy\n"
            "149532,Hyena Road,(no genres listed)\n"
        ),
        "ratings.csv": (
            "userId,movieId,rating,timestamp\n"
            "1,1,4.0,1500072340\n"
            "1,2571,5.0,1500068723\n"
            "2,47,3.5,1500028936\n"
            "2,108583,4.5,1500039787\n"
            "3,1,0.5,1500021702\n"
            "3,149532,2.0,1500025319\n"
            "4,2571,3.0,1500097659\n"
            "5,47,4.0,1500003617\n"
            "5,1,2.5,1500007234\n"
            "6,2571,1.5,1500000000\n"
            "7,1,5.0,1500010851\n"
            "7,47,3.0,1500014468\n"
        ),
        "tags.csv": (
            "userId,movieId,tag,timestamp\n"
            "1,2571,philosophy,1500075957\n"
            "2,47,twist ending,1500032553\n"
            "2,47,serial killer,1500036170\n"
            "7,1,pixar,1500018085\n"
        ),
    },
}


def write_samples() -> Path:
    """Writes every sample folder under a new temporary folder (removed at exit)."""
    root = Path(tempfile.mkdtemp(prefix="marquee-movielens-samples-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for folder, files in SAMPLES.items():
        (root / folder).mkdir()
        for name, text in files.items():
            encoding = "latin-1" if name in LATIN_1 else "utf-8"
            (root / folder / name).write_bytes(text.encode(encoding))
    return root
