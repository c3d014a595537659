"""Small built-in word lists (no Faker: the output must be byte-identical whatever is installed)."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia", "Mateo",
    "Amelia", "Levi", "Harper", "Ethan", "Evelyn", "Henry", "Abigail", "Owen", "Ella", "Jack", "Chloe", "Leo",
    "Grace", "Samuel", "Nora", "David", "Zoe", "Daniel", "Layla", "Wyatt", "Aria", "Julian", "Lily", "Hugo",
    "Hannah", "Felix", "Clara", "Oscar", "Freya", "Theo", "Maya", "Jonas", "Lea", "Finn", "Ines", "Arjun",
    "Priya", "Wei", "Mei", "Kenji", "Yuki", "Omar", "Amira", "Diego", "Lucia", "Tomas", "Sofia", "Malik",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Murphy",
    "O'Brien", "Kelly", "Patel", "Shah", "Nguyen", "Chen", "Wang", "Kim", "Tanaka", "Muller", "Schmidt",
    "Schneider", "Fischer", "Dubois", "Moreau", "Laurent", "de Vries", "Jansen", "Bakker", "Rossi", "Novak",
)  # fmt: skip
EMAIL_DOMAINS = (
    ("gmail.com", 40), ("yahoo.com", 10), ("outlook.com", 10), ("hotmail.com", 6), ("icloud.com", 12),
    ("proton.me", 3), ("aol.com", 2), ("fastmail.com", 2), ("gmx.de", 3), ("orange.fr", 2), ("ziggo.nl", 1),
    ("bigpond.com", 2), ("btinternet.com", 2),
)  # fmt: skip

# country -> (weight, [(city, postal code prefix)]); the generator appends the country's postal code pattern.
COUNTRIES = {
    "US": (62, (("Seattle", "981"), ("Portland", "972"), ("Austin", "787"), ("Chicago", "606"),
                ("Boston", "021"), ("Denver", "802"), ("Atlanta", "303"), ("San Diego", "921"),
                ("Brooklyn", "112"), ("Minneapolis", "554"), ("Charleston", "294"), ("Savannah", "314"))),
    "CA": (10, (("Toronto", "M"), ("Vancouver", "V"), ("Montreal", "H"), ("Halifax", "B"), ("Calgary", "T"))),
    "GB": (9, (("London", "SW"), ("Bristol", "BS"), ("Manchester", "M"), ("Edinburgh", "EH"),
               ("Brighton", "BN"))),
    "DE": (5, (("Berlin", "10"), ("Hamburg", "20"), ("Munich", "80"), ("Cologne", "50"))),
    "FR": (4, (("Paris", "75"), ("Lyon", "69"), ("Marseille", "13"), ("Nantes", "44"))),
    "NL": (3, (("Amsterdam", "10"), ("Rotterdam", "30"), ("Utrecht", "35"))),
    "AU": (5, (("Sydney", "2"), ("Melbourne", "3"), ("Brisbane", "4"), ("Perth", "6"))),
    "IE": (2, (("Dublin", "D0"), ("Cork", "T1"), ("Galway", "H9"))),
}  # fmt: skip
COUNTRY_DIAL_CODES = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "NL": "31",
    "AU": "61",
    "IE": "353",
}
STREETS_EN = (
    "Harbor St", "Maple Ave", "Ocean Blvd", "Cedar Ln", "Willow Way", "Bay Rd", "Elm St", "Pine Ct",
    "High Street", "Station Road", "Church Lane", "Mill Road", "Lighthouse Dr", "Beacon St", "Shore Rd",
)  # fmt: skip
STREETS_CONTINENTAL = (
    "Lindenstrasse", "Hafenweg", "Bahnhofstrasse", "Rue de la Paix", "Rue du Port", "Avenue Victor Hugo",
    "Keizersgracht", "Prinsengracht", "Havenstraat", "Dorpsstraat",
)  # fmt: skip

CATEGORY_ITEMS = {
    "living_room": (("Sofa", 699, 1899), ("Armchair", 249, 899), ("Coffee Table", 149, 599),
                    ("TV Stand", 179, 549), ("Bookshelf", 99, 399)),
    "bedroom": (("Bed Frame", 299, 1299), ("Nightstand", 79, 299), ("Dresser", 299, 999),
                ("Duvet Cover", 59, 189), ("Pillow Set", 29, 89)),
    "kitchen": (("Chef Knife", 39, 149), ("Cookware Set", 129, 499), ("Cutting Board", 19, 79),
                ("Kettle", 29, 119), ("Mixing Bowl Set", 24, 69)),
    "dining": (("Dining Table", 399, 1499), ("Dining Chair", 89, 299), ("Dinnerware Set", 59, 229),
               ("Table Runner", 19, 59), ("Glassware Set", 24, 89)),
    "bath": (("Towel Set", 29, 119), ("Shower Curtain", 19, 69), ("Bath Mat", 15, 59),
             ("Vanity Mirror", 79, 299), ("Soap Dispenser", 12, 39)),
    "outdoor": (("Patio Chair", 89, 349), ("Planter", 19, 129), ("Hammock", 59, 199),
                ("Fire Pit", 149, 499), ("Outdoor Rug", 49, 249)),
    "lighting": (("Floor Lamp", 79, 349), ("Table Lamp", 39, 189), ("Pendant Light", 69, 299),
                 ("String Lights", 15, 49), ("Wall Sconce", 49, 179)),
    "decor": (("Throw Pillow", 19, 69), ("Wall Art", 39, 249), ("Vase", 19, 99), ("Candle Set", 15, 49),
              ("Area Rug", 99, 599)),
}  # fmt: skip
PRODUCT_STYLES = (
    "Coastal", "Nordic", "Harbor", "Driftwood", "Tidewater", "Linen", "Oak", "Walnut", "Rattan", "Stoneware",
    "Seaglass", "Marlow", "Juniper", "Cove", "Brindle", "Ash", "Saltmarsh", "Dune", "Kelp", "Anchor",
)  # fmt: skip
PRODUCT_COLOURS = ("Sand", "Slate", "Ivory", "Moss", "Navy", "Clay", "Charcoal", "Oat", "Sage", "Rust")

# Browsers real customers use (no quotes or backslashes: lines are built with f-strings).
BROWSER_USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", 26),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", 14),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", 24),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Mobile Safari/537.36", 14),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 5),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", 7),
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", 6),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", 4),
)  # fmt: skip
# Crawlers: every one contains bot, crawler, spider or HeadlessChrome.
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Screaming Frog SEO Spider/19.8",
    "Mozilla/5.0 (compatible; PriceWatch-crawler/1.3; +https://pricewatch.example/crawler)",
)
# Brands (suppliers) whose products the shop sells: made-up house-and-home labels, no person's name among them.
SUPPLIER_BRANDS = (
    "Harbor & Pine", "Northfield Living", "Ember Works", "Tidal Linen Co.", "Oakhollow", "Copperline Home",
    "Saltmarsh Studio", "Birch & Basalt", "Lumen Foundry", "Driftstone", "Quarry Table", "Fernwood Textiles",
    "Cobalt Kitchenware", "Meadowlark Ceramics", "Ironbark Outdoor", "Willow Loom", "Sandbar Goods",
    "Greystone Lighting", "Hearth Theory", "Coastline Bath", "Juniper Hall", "Slate & Sail", "Brightwater Decor",
    "Cedar Row",
)  # fmt: skip
