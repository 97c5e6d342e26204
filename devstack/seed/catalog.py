"""Reference data of the synthetic portfolio: regions, merchant categories, countries, currencies.

Plain tables, so the generator draws codes with `numpy` and turns them into strings once,
and a reader can see every value the data can take. Weights need not sum to one: the
generator normalises them.
"""

from __future__ import annotations

import numpy as np

HOME_COUNTRY = "DE"
HOME_CURRENCY = "EUR"

# ISO 3166-2 codes of the German states, weighted by population: the bank's home market.
REGIONS: dict[str, float] = {
    "DE-NW": 18.1,
    "DE-BY": 13.4,
    "DE-BW": 11.3,
    "DE-NI": 8.1,
    "DE-HE": 6.4,
    "DE-SN": 4.1,
    "DE-RP": 4.1,
    "DE-BE": 3.8,
    "DE-SH": 2.9,
    "DE-BB": 2.6,
    "DE-ST": 2.2,
    "DE-TH": 2.1,
    "DE-HH": 1.9,
    "DE-MV": 1.6,
    "DE-SL": 1.0,
    "DE-HB": 0.7,
}

GENDERS = ("F", "M", "X")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
EMPLOYED, SELF_EMPLOYED, UNEMPLOYED, RETIRED, STUDENT = range(len(EMPLOYMENT))

# Card products by income tier; a second card is always a classic or gold one.
PRODUCTS = ("student", "classic", "gold", "platinum")
STUDENT_CARD, CLASSIC, GOLD, PLATINUM = range(len(PRODUCTS))

ACCOUNT_STATUS = ("active", "closed", "charged_off")
ACTIVE, CLOSED, CHARGED_OFF = range(len(ACCOUNT_STATUS))

CHANNELS = ("pos", "ecom", "atm", "contactless")
POS, ECOM, ATM, CONTACTLESS = range(len(CHANNELS))

CASH_MCC = "6011"  # ATM cash withdrawal: a cash advance on a credit card
GAMBLING_MCC = "7995"

# Merchant categories per channel: (mcc, weight, median amount in EUR).
CARD_PRESENT_MCC: list[tuple[str, float, float]] = [
    ("5411", 30, 35.0),  # grocery
    ("5812", 12, 40.0),  # restaurants
    ("5814", 10, 12.0),  # fast food
    ("5541", 10, 60.0),  # fuel
    ("5912", 6, 22.0),  # pharmacy
    ("5311", 7, 70.0),  # department stores
    ("5651", 7, 65.0),  # clothing
    ("4111", 8, 8.0),  # local transport
    ("5999", 10, 30.0),  # miscellaneous retail
]
ECOM_MCC: list[tuple[str, float, float]] = [
    ("5999", 25, 45.0),  # miscellaneous online retail
    ("5732", 8, 180.0),  # electronics
    ("5815", 18, 12.0),  # digital goods
    ("4121", 10, 22.0),  # ride hailing
    ("4722", 7, 350.0),  # travel agencies
    ("5964", 17, 50.0),  # direct marketing
    ("4899", 15, 15.0),  # subscriptions
]
GAMBLING_MEDIAN_EUR = 40.0
ATM_AMOUNTS_EUR: dict[int, float] = {20: 10, 50: 25, 100: 30, 200: 20, 300: 8, 500: 7}

# Countries a card is used abroad in: (weight, currency).
FOREIGN_COUNTRIES: dict[str, tuple[float, str]] = {
    "FR": (16, "EUR"),
    "NL": (12, "EUR"),
    "AT": (14, "EUR"),
    "IT": (10, "EUR"),
    "ES": (10, "EUR"),
    "PL": (7, "PLN"),
    "CH": (7, "CHF"),
    "GB": (8, "GBP"),
    "US": (8, "USD"),
    "CZ": (4, "CZK"),
    "DK": (4, "DKK"),
}
# Units of each currency per euro, fixed: the amount of a transaction is in its own currency.
FX_PER_EUR: dict[str, float] = {
    "EUR": 1.0,
    "PLN": 4.3,
    "CHF": 0.94,
    "GBP": 0.85,
    "USD": 1.08,
    "CZK": 25.0,
    "DKK": 7.46,
}
CURRENCIES = tuple(FX_PER_EUR)

# Share of card activity per hour of the day (local time, written as UTC for simplicity).
HOURLY_ACTIVITY = np.array(
    [0.4, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 2, 3, 4, 5, 6, 7, 6, 5.5, 5.5, 6, 7, 7.5, 7, 5.5, 4, 2.5, 1.2]
)


def cumulative(weights: list[float] | np.ndarray) -> np.ndarray:
    """Normalised cumulative weights, for drawing a category with `searchsorted(u)`."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return cum / cum[-1]
