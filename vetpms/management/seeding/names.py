"""Word lists for made-up but believable UK clients and pets. Nothing here is a real person's data.

Phone numbers come only from the ranges Ofcom keeps for drama and fiction that the phonenumbers library still
treats as valid (the fiction mobile range 07700 900xxx is flagged invalid by it, so demo clients carry
landlines from these ranges instead).
"""

from __future__ import annotations


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
    "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
    "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price "
    "Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox "
    "Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers "
    "Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell "
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard "
    "Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson "
    "Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis "
    "Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons "
    "Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner "
    "Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long "
    "Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper "
    "Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon "
    "Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson "
    "Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost "
    "Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Bibi "
    "Clayton Nash Greenwood Jennings Holt Kemp Poole Gough Rahman Nguyen Kowalski Nowak Okafor Mensah Costa "
    "Fernandes Rossi Muller Novak Chen Wong Liu Ozturk Yilmaz Dubois Jansen Larsen"
)

FEMALE_NAMES = _words(
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella Poppy Evie "
    "Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia Maya Millie Isabelle "
    "Eva Sarah Emma Claire Helen Rachel Laura Nicola Joanne Karen Susan Julie Jane Margaret Patricia Linda "
    "Elizabeth Catherine Victoria Hannah Rebecca Jessica Lucy Katie Amy Gemma Zoe Chloe Megan Bethany Aisha Fatima "
    "Priya Anjali Zainab Maryam Agnieszka Siobhan Niamh Aoife Mairead Eilidh Morag Carys Ffion Seren Bronwen"
)

MALE_NAMES = _words(
    "Oliver George Noah Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Alfie "
    "Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Edward James David John Michael Paul Mark "
    "Andrew Richard Peter Stephen Robert Christopher Daniel Matthew Simon Ian Gary Kevin Neil Martin Stuart Graham "
    "Colin Keith Brian Alan Philip Tony Adam Ben Sam Joe Luke Ryan Jamie Callum Connor Kieran Ahmed Imran Raj "
    "Sanjay Tomasz Piotr Declan Ciaran Seamus Angus Hamish Euan Rhys Dylan Gareth Owain Ifan"
)

ORGANISATIONS = [
    "Hollybank Farm",
    "Meadowside Equestrian Centre",
    "Second Chance Animal Rescue",
    "Greenacre Kennels",
    "Willow Tree Cattery",
    "Brookfield Riding School",
    "Oakwood Dog Training",
    "Hillcrest Boarding Kennels",
    "Northfield Smallholding",
    "Paws & Claws Rescue",
]

DOG_NAMES = _words(
    "Bella Luna Max Buddy Poppy Charlie Daisy Teddy Milo Bailey Coco Ruby Rosie Alfie Lola Archie Molly Bear "
    "Ted Monty Bruno Nala Hugo Ollie Rocky Willow Biscuit Pepper Maisie Tilly Rex Jasper Otis Winston Murphy "
    "Barney Bonnie Honey Millie Dexter Toby Sky Ziggy Mabel Loki Rolo Skye Storm Fudge Hattie"
)
CAT_NAMES = _words(
    "Luna Bella Simba Milo Oliver Nala Tiger Smudge Poppy Leo Lily Loki Cleo Misty Shadow Willow Salem Sooty "
    "Oscar Felix Pumpkin Ginger Tabitha Mittens Pixel Socks Binx Jinx Marmalade Pebbles Whiskers Kiki"
)
SMALL_NAMES = _words(
    "Thumper Clover Bramble Hazel Peanut Nibbles Fluffy Caramel Cookie Mocha Snowy Patch Bun Dandelion Toffee "
    "Pip Squeak Truffle Oreo Button Blossom Acorn Nutmeg"
)
HORSE_NAMES = _words("Duke Star Misty Bramble Jasper Shadow Blaze Dolly Flash Noble Copper Conker Willow Apache")
BIRD_NAMES = _words("Kiwi Mango Sunny Rio Polly Peaches Skittles Echo Charlie Pip Sky Blue")
REPTILE_NAMES = _words("Spike Rango Yoshi Godzilla Sheldon Kaa Noodle Draco Slinky Crush Turbo")

PET_NAMES_BY_SPECIES = {
    "Dog": DOG_NAMES,
    "Cat": CAT_NAMES,
    "Rabbit": SMALL_NAMES,
    "Guinea pig": SMALL_NAMES,
    "Ferret": SMALL_NAMES,
    "Horse": HORSE_NAMES,
    "Bird": BIRD_NAMES,
    "Reptile": REPTILE_NAMES,
}

# Relative frequency of each species in a mixed small-animal practice.
SPECIES_WEIGHTS = {
    "Dog": 46,
    "Cat": 34,
    "Rabbit": 7,
    "Guinea pig": 3,
    "Ferret": 1,
    "Horse": 3,
    "Bird": 3,
    "Reptile": 3,
}

# Adult weight ranges in kg, used for weight histories.
ADULT_WEIGHT_KG = {
    "Dog": (4.0, 42.0),
    "Cat": (3.0, 6.5),
    "Rabbit": (1.2, 5.5),
    "Guinea pig": (0.7, 1.2),
    "Ferret": (0.6, 2.0),
    "Horse": (250.0, 650.0),
    "Bird": (0.03, 0.9),
    "Reptile": (0.05, 3.5),
}

# Typical healthy adult weights (kg) of breeds whose size the species range says little about. The breeds with a
# known ceiling in animals.plausibility get 45-85 % of it; the rest fall back to the species range above.
BREED_ADULT_KG = {
    ("Dog", "Mixed breed"): (8.0, 30.0),
    ("Dog", "Labrador Retriever"): (25.0, 36.0),
    ("Dog", "Golden Retriever"): (25.0, 34.0),
    ("Dog", "German Shepherd"): (25.0, 40.0),
    ("Dog", "Boxer"): (25.0, 32.0),
    ("Dog", "Poodle"): (6.0, 28.0),
    ("Dog", "Labradoodle"): (15.0, 30.0),
    ("Dog", "Greyhound"): (25.0, 34.0),
    ("Dog", "Rottweiler"): (35.0, 55.0),
    ("Dog", "Dobermann"): (30.0, 42.0),
    ("Dog", "Siberian Husky"): (18.0, 27.0),
    ("Cat", "British Shorthair"): (4.0, 7.5),
    ("Cat", "Ragdoll"): (4.5, 8.0),
    ("Cat", "Norwegian Forest Cat"): (4.5, 8.0),
    ("Rabbit", "Flemish Giant"): (6.0, 9.5),
    ("Horse", "Shire"): (800.0, 1100.0),
    ("Horse", "Thoroughbred"): (450.0, 550.0),
    ("Horse", "Cob"): (400.0, 600.0),
}

COLOURS = {
    "Dog": [
        "Black",
        "Yellow",
        "Chocolate",
        "Black and tan",
        "Tricolour",
        "Brindle",
        "White with brown patches",
        "Red",
        "Blue merle",
        "Sable",
        "Black and white",
    ],
    "Cat": ["Tabby", "Black", "Black and white", "Ginger", "Tortoiseshell", "Grey", "Calico", "Seal point", "White"],
    "Horse": ["Bay", "Chestnut", "Grey", "Dun", "Skewbald", "Piebald", "Black"],
}
DEFAULT_COLOURS = ["Brown", "White", "Grey", "Agouti", "Mixed", "Green", "Sandy"]

STREETS = _words(
    "High Street|Station Road|Church Lane|Mill Lane|Park Road|Victoria Road|The Green|Queens Road|Manor Road|"
    "Kings Road|Church Street|New Road|Grove Road|Orchard Close|School Lane|London Road|Springfield Road|"
    "Meadow Way|Chapel Street|Windsor Road|Riverside|Brook Lane|Oak Avenue|Elm Grove|Willow Close|"
    "Beech Drive|Cherry Tree Walk|Hawthorn Way|Farm Lane|Castle Street|Market Place|North Street|Albert Road|"
    "York Road|Highfield Road|Rectory Lane|Cedar Avenue|Sandy Lane|Holly Close|Bridge Street",
    "|",
)

# Fictional towns with postcode districts in the style of the real ones.
TOWNS = [
    ("Exampletown", "EX1"),
    ("Exampletown", "EX2"),
    ("Exampletown", "EX4"),
    ("Little Sampleford", "EX7"),
    ("Riverside", "EX9"),
    ("Northwick", "NW3"),
    ("Southmere", "SM4"),
    ("Eastbury", "EB2"),
    ("Westleigh", "WL5"),
    ("Fictonbridge", "FB1"),
]

COUNTIES = ["Exampleshire", "Sampleshire", ""]

# Ofcom's drama ranges (1,000 numbers each) that phonenumbers accepts as valid UK numbers.
FICTION_PHONE_PREFIXES = [
    "0113 496 ",
    "0114 496 ",
    "0116 496 ",
    "0117 496 ",
    "0118 496 ",
    "0121 496 ",
    "0131 496 ",
    "0141 496 ",
    "0151 496 ",
    "0161 496 ",
    "0191 498 ",
    "020 7946 ",
    "028 9018 ",
    "029 2018 ",
    "0306 999 ",
]

ALERTS = [
    "Bites",
    "Allergic to penicillin",
    "Nervous — muzzle for examination",
    "Scratches; use a towel",
    "Diabetic (insulin twice daily)",
    "Heart murmur — sedation risk",
    "Allergic to chicken",
]

NOTES = [
    "Prefers afternoon appointments.",
    "Second dog is at a different practice.",
    "Ask for the side entrance; steps are difficult.",
    "Works nights — call after 2 pm.",
    "Pays by bank transfer.",
    "",
    "",
    "",
]
