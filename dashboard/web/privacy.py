"""A site's privacy text, in Norwegian (bokmål) and English, written from the running configuration."""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from storage.search_params import DEFAULT_SEARCH_PARAMS, NO_SEARCH_PARAMS
from storage.sites import Site

LANGUAGES = {"nb": "Norsk (bokmål)", "en": "English"}


@dataclass(frozen=True)
class PrivacyFacts:
    """Everything the text states that comes from the configuration."""

    site: Site
    events_days: int
    rollup_months: int
    search_months: int
    search_min_count: int
    stats_host: str  # the public host of the statistics server, "" when only a loopback address is known
    controller_name: str = ""
    controller_email: str = ""
    request_days: int = 30


def public_host(url: str) -> str:
    """The host of a URL, or "" for a loopback or unspecified address (not where visitors reach the server)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return "" if address.is_loopback or address.is_unspecified else host


@dataclass(frozen=True)
class Section:
    """A heading and its paragraphs."""

    heading: str
    paragraphs: tuple[str, ...]


def _months(months: int, lang: str) -> str:
    if lang == "nb":
        return "én måned" if months == 1 else f"{months} måneder"
    return "one month" if months == 1 else f"{months} months"


def _days(days: int, lang: str) -> str:
    if lang == "nb":
        return "ett døgn" if days == 1 else f"{days} dager"
    return "one day" if days == 1 else f"{days} days"


def _search_params(site: Site) -> str:
    """The query parameters read as search words, as a readable list."""
    names = DEFAULT_SEARCH_PARAMS if not site.search_params else tuple(site.search_params.split(","))
    return ", ".join(names)


def privacy_sections(facts: PrivacyFacts, lang: str) -> list[Section]:
    """The text as sections, in lang ("nb" or "en")."""
    return _norwegian(facts) if lang == "nb" else _english(facts)


def _norwegian(f: PrivacyFacts) -> list[Section]:
    site = f.site.domain
    search_source = (
        "Vi teller bare søkeord som søkesiden selv melder fra om."
        if f.site.search_params == NO_SEARCH_PARAMS
        else f"Søkeordet leses fra parameterne {_search_params(f.site)} i adressen til søkesiden."
    )
    sections = [
        Section(
            "Besøksstatistikk",
            (
                f"Vi fører statistikk over bruken av {site} med Teller, et analyseverktøy vi drifter selv. "
                "Statistikken viser oss hvilke sider som blir lest, hvor leserne kommer fra og hva de leter etter, "
                "slik at vi kan gjøre nettstedet bedre.",
                "Verktøyet setter ingen informasjonskapsler (cookies) og lagrer ingenting på enheten din, "
                "verken i nettleserens lager eller på annen måte. Du får derfor ikke spørsmål om samtykke til "
                "statistikken.",
            ),
        ),
        Section(
            "Hva som registreres",
            (
                "For hver sidevisning registrerer vi adressen til siden (uten det som står etter spørsmålstegnet, "
                "bortsett fra kampanjemerker som utm_source), hvilken nettside som lenket til oss, type nettleser, "
                "operativsystem og enhet, skjermbredde, land, hvor lenge siden var synlig og hvor langt "
                "ned du rullet.",
                "Landet finnes ut fra den forkortede IP-adressen (se under), med en database som ligger på vår "
                "egen server.",
            ),
        ),
        Section(
            "IP-adressen forkortes straks",
            (
                "Før noe annet skjer med forespørselen, kutter vi bort siste del av IP-adressen din: for IPv4 "
                "fjernes den siste av de fire tallgruppene (203.0.113.45 blir 203.0.113.0), og for IPv6 beholdes "
                "bare de første 48 bitene. Den fullstendige adressen blir aldri lagret, heller ikke i loggfiler.",
            ),
        ),
        Section(
            "Hvordan besøk telles uten informasjonskapsler",
            (
                "For å skille besøkende fra hverandre i løpet av ett døgn lager vi en enveiskode av den "
                "forkortede IP-adressen, nettleserens identifikasjonstekst, navnet på nettstedet og en "
                "tilfeldig hemmelig verdi. Den hemmelige verdien byttes ut hvert døgn og slettes etter 48 timer. "
                "Etter det kan ingen, heller ikke vi, regne ut koden igjen eller knytte den til deg.",
                "Den samme personen telles derfor som en ny besøkende hver dag, og vi kan ikke følge noen fra "
                "dag til dag eller mellom ulike nettsteder.",
            ),
        ),
    ]
    if f.site.respect_dnt:
        sections.append(
            Section(
                "Reservasjon",
                (
                    "Dersom nettleseren din sender signalet Do Not Track eller Global Privacy Control, "
                    "registrerer vi ingenting om besøket ditt.",
                ),
            )
        )
    sections += [
        Section(
            "Søk på nettstedet",
            (
                f"Når du bruker søkefunksjonen på {site}, teller vi hvilke ord det søkes etter. {search_source} "
                "E-postadresser, telefonnumre, fødselsnumre, datoer og andre lange tallrekker byttes ut med "
                "plassholdere før noe lagres.",
                "Søkeordene lagres i en egen tabell, bare som antall søk per dag. De kan ikke kobles til "
                "besøket, siden, IP-adressen eller noe annet vi registrerer. I rapportene våre vises et søkeord "
                f"først når det er søkt på minst {f.search_min_count} ganger i perioden vi ser på.",
            ),
        ),
        Section(
            "Hvor lenge vi tar vare på opplysningene",
            (
                f"Enkeltvise sidevisninger og besøk slettes etter {_days(f.events_days, 'nb')}. Tall som er "
                f"summert per time, beholdes i {_months(f.rollup_months, 'nb')}, og antall søk per søkeord i "
                f"{_months(f.search_months, 'nb')}. Deretter slettes også de.",
            ),
        ),
        Section(
            "Ingen deling med andre",
            (
                f"Statistikken lagres på en server vi har kontroll over{_host(f, 'nb')}, og skriptet som "
                "teller besøkene, lastes fra den samme serveren. Opplysningene blir ikke sendt til, delt med "
                "eller solgt til noen andre.",
            ),
        ),
        _rights_nb(f),
    ]
    return sections


def _host(f: PrivacyFacts, lang: str) -> str:
    """(host) after "a server under our control", or nothing without a public host."""
    return f" ({f.stats_host})" if f.stats_host else ""


def _contact(f: PrivacyFacts, lang: str) -> str:
    """Who receives requests: the controller's name and address as configured."""
    if f.controller_name and f.controller_email:
        return f"{f.controller_name} ({f.controller_email})"
    if f.controller_name or f.controller_email:
        return f.controller_name or f.controller_email
    return f"den som driver {f.site.domain}" if lang == "nb" else f"whoever runs {f.site.domain}"


def _rights_nb(f: PrivacyFacts) -> Section:
    """What a visitor may ask for, and what can and cannot be done with statistics."""
    return Section(
        "Dine rettigheter",
        (
            "Du kan be om å få vite hva vi behandler av opplysninger om deg, og kreve at feil rettes og at "
            "opplysninger vi ikke har grunnlag for å behandle, slettes.",
            "I statistikken finnes det ikke noe som knytter et besøk til deg: IP-adressen er forkortet før den "
            "brukes, og koden som skiller besøkende fra hverandre, kan ikke regnes ut på nytt når den hemmelige "
            "verdien er slettet etter 48 timer. Vi har derfor ingen måte å finne, vise deg eller slette akkurat "
            "dine besøk på, og vi ber heller ikke om opplysninger fra deg for å forsøke.",
            f"Det vi kan gjøre, er å slette all statistikk for en side eller for et tidsrom fra {f.site.domain}, "
            "for eksempel hvis adressen til en side har inneholdt personopplysninger. Da slettes også tallene "
            "som er regnet ut fra disse sidevisningene.",
            f"Spørsmål og krav sender du til {_contact(f, 'nb')}. Du får svar innen {_days(f.request_days, 'nb')}.",
        ),
    )


def _rights_en(f: PrivacyFacts) -> Section:
    """What a visitor may ask for, and what can and cannot be done with statistics."""
    return Section(
        "Your rights",
        (
            "You may ask what data about you we process, and require that mistakes are corrected and that data "
            "we have no basis for processing is deleted.",
            "Nothing in the statistics ties a visit to you: the IP address is shortened before it is used, and "
            "the code that tells visitors apart cannot be computed again once the secret value is deleted after "
            "48 hours. We therefore have no way to find, show you or delete your visits in particular, and we "
            "do not ask you for details in an attempt to.",
            f"What we can do is delete all statistics of a page, or of a period, from {f.site.domain}, for "
            "instance when a page's address has contained personal data. The numbers computed from those page "
            "views are deleted with them.",
            f"Send questions and requests to {_contact(f, 'en')}. You will get an answer within "
            f"{_days(f.request_days, 'en')}.",
        ),
    )


def _english(f: PrivacyFacts) -> list[Section]:
    site = f.site.domain
    search_source = (
        "We only count words that the search page itself reports."
        if f.site.search_params == NO_SEARCH_PARAMS
        else f"The words are read from the address parameters {_search_params(f.site)} of the search page."
    )
    sections = [
        Section(
            "Visitor statistics",
            (
                f"We keep statistics on how {site} is used with Teller, an analytics tool we run ourselves. "
                "They tell us which pages are read, where readers come from and what they look for, so that we "
                "can improve the site.",
                "The tool sets no cookies and stores nothing on your device, in the browser's storage or "
                "anywhere else. That is why you are not asked to consent to these statistics.",
            ),
        ),
        Section(
            "What is recorded",
            (
                "For each page view we record the page's address (without what follows the question mark, "
                "except campaign tags such as utm_source), the website that linked to us, the type of browser, "
                "operating system and device, the screen width, the country, how long the page was "
                "visible and how far down you scrolled.",
                "The country is looked up from the shortened IP address (see below) in a database kept on our "
                "own server.",
            ),
        ),
        Section(
            "Your IP address is shortened at once",
            (
                "Before anything else happens to the request, the last part of your IP address is cut off: for "
                "IPv4 the last of the four numbers is removed (203.0.113.45 becomes 203.0.113.0), for IPv6 only "
                "the first 48 bits are kept. The full address is never stored, not even in log files.",
            ),
        ),
        Section(
            "How visits are counted without cookies",
            (
                "To tell visitors apart within one day we compute a one-way code from the shortened IP address, "
                "the browser's identification string, the site's name and a random secret value. The secret is "
                "replaced every day and deleted after 48 hours. After that nobody, ourselves included, can "
                "compute the code again or link it to you.",
                "The same person therefore counts as a new visitor every day, and we cannot follow anyone from "
                "one day to the next or from one website to another.",
            ),
        ),
    ]
    if f.site.respect_dnt:
        sections.append(
            Section(
                "Opting out",
                (
                    "If your browser sends a Do Not Track or Global Privacy Control signal, nothing about your "
                    "visit is recorded.",
                ),
            )
        )
    sections += [
        Section(
            "Searches on the site",
            (
                f"When you use the search function of {site}, we count the words searched for. {search_source} "
                "E-mail addresses, phone numbers, national identity numbers, dates and other long numbers are "
                "replaced by placeholders before anything is stored.",
                "Search words are stored in a table of their own, only as the number of searches per day. They "
                "cannot be linked to the visit, the page, the IP address or anything else we record. Our "
                f"reports show a search word only once it has been searched for at least {f.search_min_count} "
                "times in the period we look at.",
            ),
        ),
        Section(
            "How long we keep the data",
            (
                f"Individual page views and visits are deleted after {_days(f.events_days, 'en')}. Numbers "
                f"summed per hour are kept for {_months(f.rollup_months, 'en')}, and the number of searches per "
                f"search word for {_months(f.search_months, 'en')}. Then they are deleted as well.",
            ),
        ),
        Section(
            "No sharing with others",
            (
                f"The statistics are stored on a server under our control{_host(f, 'en')}, and the script that "
                "counts visits is loaded from that same server. The data is not sent to, shared with or sold to "
                "anyone else.",
            ),
        ),
        _rights_en(f),
    ]
    return sections


def privacy_text(facts: PrivacyFacts, lang: str) -> str:
    """The text as plain paragraphs, ready to paste."""
    blocks = []
    for section in privacy_sections(facts, lang):
        blocks.append(section.heading)
        blocks.extend(section.paragraphs)
    return "\n\n".join(blocks) + "\n"
