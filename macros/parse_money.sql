{#-
    Returns the decimal(18,2) amount written in a spreadsheet cell, or null when the cell holds no number.
    `$1,234.56` -> 1234.56; ` 980 ` -> 980.00; `1234.5` -> 1234.50; `TBD`, '' or null -> null.
    Dollar signs, thousands separators and spaces are removed before the number is read.
-#}
{% macro parse_money(value) -%}
    {%- set cleaned = "replace(replace(replace(trim(" ~ value ~ "), '$', ''), ',', ''), ' ', '')" -%}
    case
        when {{ is_full_match(cleaned, '-?[0-9]*[.]?[0-9]+') }}
            then {{ money_amount(safe_cast(cleaned, 'decimal(38,6)')) }}
    end
{%- endmacro %}
