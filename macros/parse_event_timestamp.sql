{#-
    Returns the timestamp (UTC, without time zone) written in an event's occurred_at text, or null when the
    text is none of the formats the landing zone uses:
      - ISO 8601 with a Z:            2026-03-01T12:34:56.789Z (fraction optional)
      - space-separated, no zone:     2026-03-01 12:34:56      (taken as UTC)
      - epoch milliseconds (digits):  1772368496789            (a JSON number, landed as text)
-#}
{% macro parse_event_timestamp(value) -%}
    {%- set text = "trim(" ~ value ~ ")" -%}
    {%- set iso_text = "replace(replace(" ~ text ~ ", 'T', ' '), 'Z', '')" -%}
    case
        when {{ is_full_match(text, '[0-9]{12,13}([.][0-9]*)?') }}
            then {{ timestamp_from_epoch_ms(safe_cast(text, 'decimal(18,3)')) }}
        when {{ is_full_match(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?Z?') }}
            then {{ safe_cast(iso_text, dbt.type_timestamp()) }}
    end
{%- endmacro %}
