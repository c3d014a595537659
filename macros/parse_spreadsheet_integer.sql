{#-
    Returns the bigint written in a spreadsheet cell (`1,234`, ` 98 `), or null when the cell holds no whole
    number. Thousands separators and spaces are removed before the number is read.
-#}
{% macro parse_spreadsheet_integer(value) -%}
    {%- set cleaned = "replace(replace(trim(" ~ value ~ "), ',', ''), ' ', '')" -%}
    case
        when {{ is_full_match(cleaned, '-?[0-9]{1,18}') }}
            then {{ safe_cast(cleaned, dbt.type_bigint()) }}
    end
{%- endmacro %}
