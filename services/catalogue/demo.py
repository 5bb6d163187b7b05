"""The demo world of `make run`: a fictional but plausible Ringsted catalogue, in Danish.

Seeded through the normal use cases, so every community is published as events and the
other services (referrals, notifications, analytics) learn the catalogue from the stream.
The first community has the well-known id `DEMO_CONTACT_COMMUNITY_ID`, whose community
contact owns the demo token "contact-strikkeklub".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, time

from services.catalogue.schemas import (
    CapacityIn,
    CommunityIn,
    ContactIn,
    LocationIn,
    NeedIn,
    NetworkMeetingIn,
    OrganizationIn,
    ScheduleIn,
)
from services.catalogue.service import Catalogue
from services.catalogue.store import is_empty
from shared.auth import Principal, Role
from shared.demo import DEMO_ACTORS, DEMO_CONTACT_COMMUNITY_ID

log = logging.getLogger("vejviser.catalogue.demo")

# Area → (latitude, longitude, postal code, city)
AREA_CENTRES = {
    "Ringsted midtby": (55.4428, 11.7905, "4100", "Ringsted"),
    "Ringsted Syd": (55.4312, 11.7868, "4100", "Ringsted"),
    "Benløse": (55.4622, 11.7731, "4100", "Ringsted"),
    "Jystrup": (55.5139, 11.8853, "4174", "Jystrup Midtsj"),
    "Vetterslev": (55.3852, 11.7325, "4100", "Ringsted"),
    "Kværkeby": (55.4655, 11.8801, "4100", "Ringsted"),
    "Haraldsted": (55.4786, 11.8391, "4100", "Ringsted"),
}

# id, name, kind, domain (for e-mails), description
ORGANIZATIONS = [
    ("demo-org-01", "Foreningen Maskerne", "association", "maskerne", "Strikke- og hækleforening for alle aldre."),
    ("demo-org-02", "Ringsted Løbeklub", "association", "ringstedloeb",
     "Motionsløb og trænede hold i og omkring Ringsted."),
    ("demo-org-03", "Fællesskabsby Ringsted", "housing_association", "faellesskabsby",
     "Boligsociale fællesskaber i samarbejde med DAB."),
    ("demo-org-04", "Ringsted Bibliotek", "municipal_unit", "bibliotek", "Bibliotekets arrangementer og læsegrupper."),
    ("demo-org-05", "Benløse Borgerforening", "association", "benloese", "Borgerforeningen i Benløse."),
    ("demo-org-06", "Jystrup Forsamlingshus", "association", "jystrup", "Landsbyens forsamlingshus og aktiviteter."),
    ("demo-org-07", "Ringsted Sundhedscenter", "municipal_unit", "sundhed",
     "Kommunens sundhedstilbud og genoptræning."),
    ("demo-org-08", "Naturvejlederne Midtsjælland", "association", "naturvejledning",
     "Ture og naturpleje i Ringsted Kommune."),
    ("demo-org-09", "Frivilligcenter Ringsted", "association", "frivillig", "Formidler frivilligt arbejde og netværk."),
    ("demo-org-10", "Haraldsted Idrætsforening", "association", "hif", "Idræt for børn og voksne ved Haraldsted Sø."),
    ("demo-org-11", "Kværkeby Landsbylaug", "association", "kvaerkeby", "Landsbyens fællesskaber og arrangementer."),
    ("demo-org-12", "Vetterslev-Høm Kulturforening", "association", "vetterslev",
     "Kultur og samvær i Vetterslev og Høm."),
    ("demo-org-13", "Café Vejviseren", "private_business", "cafevejviser", "Café med plads til fællesskaber."),
    ("demo-org-14", "Ringsted Kunstforening", "association", "kunst", "Udstillinger, værksteder og kunsthold."),
]


@dataclass(frozen=True)
class Seed:
    name: str
    org: int  # 1-based index into ORGANIZATIONS
    categories: tuple[str, ...]
    area: str
    description: str
    day: str
    hours: tuple[int, int]
    seats: tuple[int, int, str]  # total, available, status
    special_needs: bool = False
    contact: str = ""
    practice: tuple[date, date] | None = None
    monthly: int | None = None


SEEDS: list[Seed] = [
    Seed("Strikkeklubben Maskerne", 1, ("creative", "social"), "Ringsted midtby",
         "Vi strikker, hækler og drikker kaffe. Nybegyndere er meget velkomne, og vi har garn til låns.",
         "tue", (14, 16), (20, 6, "open"), True, "Birthe Holm"),
    Seed("Løbeklubben for begyndere", 2, ("sport", "health"), "Ringsted midtby",
         "Løbetræning fra 0 til 5 km i roligt tempo. Vi løber sammen og venter på hinanden.",
         "mon", (17, 18), (30, 0, "full"), False, "Jonas Kragh"),
    Seed("Motionsløb ved Sct. Bendts", 2, ("sport",), "Ringsted midtby",
         "Fælles løbetur fra Sct. Bendts Kirke, 5 og 10 km. Alle tempi.", "sat", (9, 10), (0, 0, "open"), False,
         "Jonas Kragh"),
    Seed("Fællesspisning i Benløse", 5, ("food", "social"), "Benløse",
         "Social øvebane: vi laver mad og spiser sammen hver onsdag i otte uger. Ingen forudsætninger.",
         "wed", (17, 20), (24, 8, "open"), True, "Karina Dahl", (date(2025, 3, 5), date(2025, 4, 23))),
    Seed("Madklubben i Ringsted Syd", 3, ("food", "social"), "Ringsted Syd",
         "Beboerne laver aftensmad på skift i fælleshuset. Man betaler 30 kr. for maden.", "thu", (17, 19),
         (30, 4, "open"), True, "Samira Hassan"),
    Seed("Strikkecafé på biblioteket", 4, ("creative", "culture"), "Ringsted midtby",
         "Hyggelig strikkecafé mellem reolerne. Tag dit eget strikketøj med.", "thu", (15, 17), (25, 10, "open"),
         True, "Lene Bech"),
    Seed("Læsekredsen Bogormene", 4, ("culture", "social"), "Ringsted midtby",
         "Vi læser en roman om måneden og mødes til en snak om den.", "wed", (19, 21), (12, 0, "waitlist"),
         False, "Lene Bech", None, 1),
    Seed("Fortællecafé for seniorer", 4, ("culture", "social"), "Ringsted midtby",
         "Kaffe, kage og fortællinger om gamle dage i Ringsted.", "fri", (10, 12), (20, 7, "open"), True,
         "Lene Bech"),
    Seed("Gå-gruppen i Benløse", 5, ("sport", "health", "nature"), "Benløse",
         "Vi går en tur på 3-5 km gennem Benløse Skov. Turen tilpasses deltagerne.", "tue", (10, 11),
         (0, 0, "open"), True, "Poul Erik Nielsen"),
    Seed("Benløse Petanque", 5, ("sport", "social"), "Benløse",
         "Petanque på banen ved hallen. Kugler kan lånes.", "thu", (13, 15), (16, 5, "open"), True,
         "Poul Erik Nielsen"),
    Seed("Havefællesskabet Benløse", 5, ("nature", "social"), "Benløse",
         "Vi dyrker grøntsager i fælleshaven og deler høsten.", "sat", (10, 12), (15, 2, "open"), True,
         "Karina Dahl"),
    Seed("Jystrup Mandeklub", 6, ("social",), "Jystrup",
         "Mænd i alle aldre mødes til kaffe, værkstedsarbejde og små udflugter.", "wed", (9, 12), (18, 3, "open"),
         True, "Henning Lund"),
    Seed("Fællesspisning i Jystrup Forsamlingshus", 6, ("food", "social"), "Jystrup",
         "Månedlig fællesspisning for hele landsbyen. Børn spiser gratis.", "fri", (18, 21), (80, 20, "open"),
         True, "Henning Lund", None, -1),
    Seed("Jystrup Sangkor", 6, ("culture",), "Jystrup",
         "Vi synger fra Højskolesangbogen og rytmiske sange. Ingen optagelsesprøve.", "mon", (19, 21),
         (35, 0, "full"), False, "Agnete Friis"),
    Seed("Jystrup Krolf", 6, ("sport", "social"), "Jystrup",
         "Krolf på sportspladsen. Et roligt spil med god tid til snak.", "tue", (14, 16), (20, 8, "open"), True,
         "Henning Lund"),
    Seed("Hjertemotion", 7, ("health", "sport"), "Ringsted midtby",
         "Træning for borgere med hjerte-kar-sygdom, ledet af fysioterapeut.", "mon", (10, 11), (14, 0, "waitlist"),
         True, "Mette Sørensen"),
    Seed("Stole-yoga", 7, ("health",), "Ringsted midtby",
         "Blid yoga på stol. Egnet for alle, også med nedsat bevægelighed.", "wed", (11, 12), (16, 4, "open"),
         True, "Mette Sørensen"),
    Seed("Samtalegruppe om stress", 7, ("health", "social"), "Ringsted midtby",
         "Social øvebane for borgere, der er sygemeldt med stress. Otte mødegange.", "thu", (13, 15),
         (10, 3, "open"), True, "Mette Sørensen", (date(2025, 4, 3), date(2025, 5, 22))),
    Seed("Rygestopholdet", 7, ("health",), "Ringsted Syd",
         "Gratis rygestopforløb i grupper.", "tue", (16, 18), (12, 6, "open"), False, "Mette Sørensen"),
    Seed("Naturplejeholdet", 8, ("nature", "volunteering"), "Vetterslev",
         "Vi rydder krat, slår eng og passer stier. Arbejdshandsker udleveres.", "sat", (9, 13), (0, 0, "open"),
         True, "Rasmus Vang"),
    Seed("Fuglekig ved Haraldsted Sø", 8, ("nature",), "Haraldsted",
         "Tidlige ture med kikkert og fuglebog. Kikkerter kan lånes.", "sun", (7, 9), (20, 12, "open"), False,
         "Rasmus Vang"),
    Seed("Svampeture i Valsømagle Skov", 8, ("nature",), "Ringsted Syd",
         "Vi samler og lærer spiselige svampe at kende i efterårssæsonen.", "sun", (10, 13), (25, 0, "full"),
         False, "Rasmus Vang", None, 1),
    Seed("Vandreholdet Midtsjælland", 8, ("nature", "sport"), "Kværkeby",
         "Lange vandreture på 10-15 km i Midtsjællands natur.", "sun", (9, 14), (30, 9, "open"), False,
         "Rasmus Vang"),
    Seed("Besøgsvenner", 9, ("volunteering", "social"), "Ringsted midtby",
         "Bliv besøgsven for en ensom ældre. Vi matcher og følger op.", "mon", (16, 18), (0, 0, "open"), True,
         "Anja Mikkelsen"),
    Seed("Lektiecafé for voksne", 9, ("volunteering", "culture"), "Ringsted Syd",
         "Hjælp til breve, digital post og danskøvelser. Frivillige hjælper.", "wed", (15, 17), (15, 5, "open"),
         True, "Anja Mikkelsen"),
    Seed("Frivilligt køkkenhold", 9, ("volunteering", "food"), "Ringsted midtby",
         "Vi laver mad til arrangementer i Frivilligcentret.", "fri", (9, 13), (10, 2, "open"), True,
         "Anja Mikkelsen"),
    Seed("Reparationscaféen", 9, ("volunteering", "creative"), "Ringsted midtby",
         "Vi reparerer cykler, tøj og småting sammen. Tag det med, der er gået i stykker.", "sat", (10, 13),
         (20, 11, "open"), True, "Troels Bang", None, 2),
    Seed("Netværksgruppe for nye i Ringsted", 9, ("social",), "Ringsted midtby",
         "For dig, der er flyttet til Ringsted og gerne vil lære nye mennesker at kende.", "tue", (19, 21),
         (20, 9, "open"), True, "Anja Mikkelsen"),
    Seed("Haraldsted Badminton", 10, ("sport",), "Haraldsted",
         "Motionsbadminton for voksne. Ketsjere kan lånes.", "thu", (19, 21), (24, 0, "full"), False,
         "Kim Thorsen"),
    Seed("Old boys fodbold", 10, ("sport", "social"), "Haraldsted",
         "Fodbold for mænd over 40 med fokus på hygge.", "tue", (18, 20), (30, 4, "open"), False, "Kim Thorsen"),
    Seed("Kvindefodbold 30+", 10, ("sport",), "Haraldsted",
         "Motionsfodbold for kvinder. Ingen erfaring nødvendig.", "wed", (18, 19), (22, 6, "open"), False,
         "Sanne Vestergaard"),
    Seed("Vinterbadning i Haraldsted Sø", 10, ("sport", "nature", "health"), "Haraldsted",
         "Vi bader sammen om søndagen og varmer os i saunaen bagefter.", "sun", (8, 10), (40, 0, "waitlist"),
         False, "Sanne Vestergaard"),
    Seed("Gymnastik for seniorer", 10, ("sport", "health"), "Haraldsted",
         "Stille gymnastik med musik og kaffe bagefter.", "fri", (10, 11), (25, 10, "open"), True, "Kim Thorsen"),
    Seed("Kværkeby Strikkeklub", 11, ("creative", "social"), "Kværkeby",
         "Strikning og snak i landsbyens mødelokale.", "mon", (13, 15), (12, 0, "waitlist"), True, "Grethe Kjær"),
    Seed("Landsbyspisning i Kværkeby", 11, ("food", "social"), "Kværkeby",
         "Fællesspisning i landsbyhuset den første fredag i måneden.", "fri", (18, 21), (60, 25, "open"), True,
         "Grethe Kjær", None, 1),
    Seed("Kværkeby Cykelklub", 11, ("sport", "nature"), "Kværkeby",
         "Rolige cykelture på landevejene omkring Kværkeby.", "sat", (9, 12), (25, 12, "open"), False,
         "Ole Brandt"),
    Seed("Vetterslev Sangaftener", 12, ("culture", "social"), "Vetterslev",
         "Vi synger sammen fra Højskolesangbogen med pianist.", "thu", (19, 21), (50, 30, "open"), True,
         "Inger Mortensen", None, 3),
    Seed("Foredragsforeningen Vetterslev-Høm", 12, ("culture",), "Vetterslev",
         "Foredrag om historie, natur og samfund.", "tue", (19, 21), (80, 35, "open"), False, "Inger Mortensen",
         None, 2),
    Seed("Filmklubben i Vetterslev", 12, ("culture", "social"), "Vetterslev",
         "Vi ser en film og taler om den bagefter over en kop kaffe.", "wed", (19, 22), (30, 0, "full"), False,
         "Inger Mortensen", None, -1),
    Seed("Brætspilscafé", 13, ("social", "culture"), "Ringsted midtby",
         "Spil brætspil med nye og gamle venner. Vi forklarer reglerne.", "thu", (18, 22), (30, 14, "open"), True,
         "Mikkel Juhl"),
    Seed("Sprogcafé dansk-arabisk", 13, ("culture", "social"), "Ringsted Syd",
         "Øv dansk og arabisk i en uformel cafe-stemning.", "mon", (17, 19), (20, 8, "open"), True, "Mikkel Juhl"),
    Seed("Kaffeklubben på Café Vejviseren", 13, ("social", "food"), "Ringsted midtby",
         "Uformel formiddagskaffe for alle, der har lyst til selskab.", "tue", (10, 12), (0, 0, "open"), True,
         "Mikkel Juhl"),
    Seed("Akvarelmaling for begyndere", 14, ("creative", "culture"), "Ringsted midtby",
         "Lær at male akvarel i små hold. Materialer er inkluderet.", "wed", (13, 16), (10, 0, "waitlist"), False,
         "Dorthe Skov"),
    Seed("Keramikværkstedet", 14, ("creative",), "Ringsted Syd",
         "Drejning og håndopbygning i værkstedets lokaler.", "thu", (18, 21), (12, 0, "full"), False,
         "Dorthe Skov"),
    Seed("Tegneklubben", 14, ("creative",), "Benløse",
         "Vi tegner sammen efter model, natur og fantasi.", "mon", (19, 21), (15, 6, "open"), True, "Dorthe Skov"),
    Seed("Fotoklubben Ringsted", 14, ("creative", "nature"), "Ringsted midtby",
         "Fototure og billedaftener for alle med et kamera eller en mobil.", "tue", (19, 21), (25, 9, "open"),
         False, "Dorthe Skov", None, 2),
    Seed("Beboercaféen i Ringsted Syd", 3, ("social",), "Ringsted Syd",
         "Åben café i fælleshuset med kaffe, avis og samtale.", "wed", (10, 13), (0, 0, "open"), True,
         "Samira Hassan"),
    Seed("Kvindegruppen i Ringsted Syd", 3, ("social", "health"), "Ringsted Syd",
         "Kvinder mødes til gåture, madlavning og samtaler om trivsel.", "fri", (10, 12), (15, 5, "open"), True,
         "Samira Hassan"),
    Seed("Fædregruppen", 3, ("social",), "Ringsted Syd",
         "Fædre med små børn mødes til leg, kaffe og erfaringsudveksling.", "sat", (10, 12), (12, 4, "open"), True,
         "Ahmad Karimi"),
    Seed("Cykelværksted for beboere", 3, ("volunteering", "creative"), "Ringsted Syd",
         "Vi reparerer cykler sammen. Værktøj og reservedele findes.", "tue", (16, 18), (10, 3, "open"), True,
         "Ahmad Karimi"),
    Seed("Fællesspisning i Ringsted Syd", 3, ("food", "social"), "Ringsted Syd",
         "Social øvebane: seks fællesspisninger for nye i boligområdet.", "mon", (17, 19), (30, 12, "open"), True,
         "Samira Hassan", (date(2025, 9, 1), date(2025, 10, 6))),
    Seed("Havegruppen i midtbyen", 3, ("nature", "social"), "Ringsted midtby",
         "Byhave med højbede ved Nørregade. Vi sår, luger og høster sammen.", "thu", (16, 18), (20, 7, "open"),
         True, "Ahmad Karimi"),
    Seed("Aftenskolens madkursus", 4, ("food", "culture"), "Ringsted midtby",
         "Madlavning fra hele verden, fire aftener.", "tue", (17, 21), (14, 0, "full"), False, "Lene Bech",
         (date(2025, 2, 4), date(2025, 2, 25))),
    Seed("Slægtsforskning på biblioteket", 4, ("culture",), "Ringsted midtby",
         "Vi hjælper hinanden med at finde aner i kirkebøger og folketællinger.", "mon", (14, 16),
         (15, 5, "open"), False, "Lene Bech", None, 2),
    Seed("Seniordans i Benløse", 5, ("sport", "social", "culture"), "Benløse",
         "Kædedans og turdans for seniorer. Man behøver ikke en partner.", "fri", (13, 15), (40, 15, "open"), True,
         "Poul Erik Nielsen"),
    Seed("Benløse Loppemarkedshold", 5, ("volunteering", "social"), "Benløse",
         "Frivillige sorterer og sælger på borgerforeningens loppemarked.", "sat", (9, 13), (0, 0, "open"), True,
         "Karina Dahl", None, 1),
    Seed("Jystrup Naturgruppe", 6, ("nature", "volunteering"), "Jystrup",
         "Vi passer vandhuller og sætter redekasser op omkring Jystrup.", "sat", (10, 13), (15, 6, "open"), True,
         "Agnete Friis", None, 2),
    Seed("Mindfulness for voksne", 7, ("health",), "Ringsted Syd",
         "Social øvebane med mindfulness og samtaler i små grupper.", "wed", (16, 18), (12, 0, "waitlist"), True,
         "Mette Sørensen", (date(2025, 5, 7), date(2025, 6, 25))),
    Seed("Haraldsted Bordtennis", 10, ("sport",), "Haraldsted",
         "Bordtennis for voksne begyndere og øvede.", "mon", (19, 21), (16, 5, "open"), False, "Kim Thorsen"),
    Seed("Kværkeby Kortklub", 11, ("social", "culture"), "Kværkeby",
         "Whist, kanasta og bridge i landsbyhuset.", "thu", (13, 17), (24, 8, "open"), True, "Ole Brandt"),
    Seed("Vetterslev Frivillige Brandværn", 12, ("volunteering",), "Vetterslev",
         "Frivillige brandfolk, der øver og rykker ud i lokalområdet.", "wed", (19, 21), (20, 2, "open"), False,
         "Inger Mortensen", None, 1),
]

STREETS = ["Nørregade", "Søgade", "Sct. Bendts Gade", "Jernbanegade", "Klostermarken", "Næstvedvej", "Skolevej",
           "Byvej", "Hovedgaden", "Kirkevej", "Møllevej", "Præstevej", "Engvej", "Bygaden", "Stationsvej"]

NEEDS = [
    ("Ringsted Syd", "sport", "Flere beboere efterspørger motion for kvinder i boligområdet, gerne med børnepasning."),
    ("Jystrup", "social", "Ældre uden bil savner et fællesskab i dagtimerne; bussen går kun hver anden time."),
    ("Benløse", "creative", "Unge voksne efterspørger et værksted eller makerspace i Benløse."),
    ("Vetterslev", "health", "Der mangler en gå- eller sundhedsgruppe for borgere med kroniske smerter."),
    ("Ringsted midtby", "food", "Borgere på overførselsindkomst efterspørger billig fællesspisning i weekenden."),
]


def _community_in(index: int, seed: Seed) -> CommunityIn:
    lat, lon, postal_code, city = AREA_CENTRES[seed.area]
    # Spread the communities around the area's centre (deterministic, within ~1.5 km).
    lat += ((index * 37) % 21 - 10) * 0.0012
    lon += ((index * 53) % 21 - 10) * 0.0020
    org_id, _org_name, _kind, domain, _desc = ORGANIZATIONS[seed.org - 1]
    first_name = seed.contact.split()[0].lower().replace("ø", "oe").replace("æ", "ae").replace("å", "aa")
    total, available, status = seed.seats
    return CommunityIn(
        organization_id=org_id,
        name=seed.name,
        description=seed.description,
        categories=list(seed.categories),
        kind="practice_track" if seed.practice else "permanent",
        starts_on=seed.practice[0] if seed.practice else None,
        ends_on=seed.practice[1] if seed.practice else None,
        languages=["da", "ar"] if "arabisk" in seed.name else ["da"],
        cost="Gratis" if index % 3 == 0 else f"{100 + (index % 5) * 50} kr. om året",
        min_age=18,
        accessibility="Niveaufri adgang og handicaptoilet." if seed.special_needs else None,
        accepts_special_needs=seed.special_needs,
        accompaniment_welcome=True,
        contact=ContactIn(name=seed.contact, email=f"{first_name}@{domain}.example.dk",
                          phone=f"+45 20 {10 + index:02d} {30 + index % 60:02d} {index % 90 + 10:02d}"),
        location=LocationIn(area=seed.area, place_name=None, address=f"{STREETS[index % len(STREETS)]} {index + 2}",
                            postal_code=postal_code, city=city, latitude=round(lat, 5), longitude=round(lon, 5)),
        schedules=[ScheduleIn(freq="monthly" if seed.monthly else "weekly", weekday=seed.day,  # type: ignore[arg-type]
                              week_of_month=seed.monthly, opens_at=time(seed.hours[0]), closes_at=time(seed.hours[1]))],
        capacity=CapacityIn(total=total or None, available=available if total else None, status=status),  # type: ignore[arg-type]
    )


def seed(catalogue: Catalogue) -> bool:
    """Load the demo world when the catalogue is empty; True if it did."""
    with catalogue.db.read() as session:
        if not is_empty(session):
            return False
    for org_id, name, kind, domain, description in ORGANIZATIONS:
        catalogue.create_organization(
            OrganizationIn(name=name, kind=kind, description=description,  # type: ignore[arg-type]
                           email=f"kontakt@{domain}.example.dk"),
            organization_id=org_id,
        )
    for index, community in enumerate(SEEDS):
        community_id = DEMO_CONTACT_COMMUNITY_ID if index == 0 else f"demo-community-{index + 1:02d}"
        catalogue.register_community(_community_in(index, community), community_id=community_id)
    guide = Principal(DEMO_ACTORS["guide"], Role.guide)
    for area, category, text in NEEDS:
        catalogue.record_need(NeedIn(area=area, category=category, description=text), guide)
    catalogue.hold_meeting(
        NetworkMeetingIn(held_on=date(2025, 3, 12), topic="Godt velkommen: hvordan tager vi imod nye medlemmer?",
                         organization_ids=["demo-org-01", "demo-org-05", "demo-org-06", "demo-org-09", "demo-org-12"],
                         notes="Foreningerne delte erfaringer med velkomstkontakter og prøvegange."),
        guide,
    )
    return True


async def seed_in_background(catalogue: Catalogue) -> None:
    try:
        if await asyncio.to_thread(seed, catalogue):
            log.info("demo catalogue loaded: %d communities", len(SEEDS))
    except Exception:
        log.exception("loading the demo catalogue failed")
