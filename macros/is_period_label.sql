{#-
    Returns true when a spreadsheet date cell names a period instead of a day - the label of a subtotal line:
    a month (`2026-10`, `10/2026`, `October`, `Oct 2026`, `Oct-26`), a quarter or half (`Q4`, `Q4 2026`,
    `2026 Q4`, `H2`), a week (`Week 43`, `wk 43`), a year (`2026`, `FY26`) or a period word (`MTD`, `YTD`,
    `month`, `weekly`, ...). A day (`2026-10-31`, `10/31/2026`) never matches. Null when the cell is null.
-#}
{% macro is_period_label(value) -%}
    {%- set text = "lower(trim(" ~ value ~ "))" -%}
    {%- set year = "([^a-z0-9 ]?[0-9]{2}|[0-9]{4})" -%}
    {%- set month = "(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?"
        ~ "|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?)[.]?" -%}
    {%- set patterns = [
        "[0-9]{4}[-/.][0-9]{1,2}",
        "[0-9]{1,2}[-/.][0-9]{4}",
        month ~ "([ ,/-]*" ~ year ~ ")?",
        "[0-9]{4}[ ,/-]*" ~ month,
        "(q[1-4]|h[12])([ ,/-]*" ~ year ~ ")?",
        "[0-9]{4}[ ,/-]*(q[1-4]|h[12])",
        "(week|wk|w)[ .#-]*[0-9]{1,2}([ ,/-]*[0-9]{4})?",
        "[0-9]{4}",
        "fy[ -]?" ~ year,
        "(.*[^a-z])?(ytd|qtd|mtd|wtd|fy|weekly|week|monthly|month|quarterly|quarter|yearly|year)([^a-z].*)?"
    ] -%}
    {{ is_full_match(text, patterns | join("|")) }}
{%- endmacro %}
