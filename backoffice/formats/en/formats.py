"""#19: one date and time format for English pages: day, month name, year, 24-hour clock
("06 Dec 2026 09:31"), never "12/06/2026 9 a.m."; exports stay ISO 8601."""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "d M Y H:i:s"
SHORT_DATETIME_FORMAT = "d M Y H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
