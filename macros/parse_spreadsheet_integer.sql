{#-
    Returns the bigint written in a spreadsheet cell (`1,234`, ` 98 `, `1234`), or null unless the cell holds an
    unambiguous US-style whole number: an optional `-`, digits with commas only as thousands separators in groups of
    three. `1.200` (European thousands, or 1.2?), `1,2`, `1 200`, `1,23,456` and `12.0` are null, never guessed:
    the old reading dropped every comma and space, so `1,2` became 12.
-#}
{% macro parse_spreadsheet_integer(value) -%}
    {%- set text = "trim(" ~ value ~ ")" -%}
    case
        when {{ is_full_match(text, '-?([0-9]{1,3}(,[0-9]{3}){1,5}|[0-9]{1,18})') }}
            then {{ safe_cast("replace(" ~ text ~ ", ',', '')", dbt.type_bigint()) }}
    end
{%- endmacro %}
