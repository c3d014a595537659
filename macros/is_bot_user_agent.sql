{#-
    Returns true when a user agent string looks like an automated client (bot, crawler, spider, headless
    browser), false otherwise, including when it is null. Matching is case-insensitive on substrings.
-#}
{% macro is_bot_user_agent(user_agent, markers=['bot', 'crawler', 'spider', 'headlesschrome']) -%}
    coalesce(
        {%- for marker in markers %}
        lower({{ user_agent }}) like '%{{ marker }}%'{{ ' or' if not loop.last }}
        {%- endfor %},
        false
    )
{%- endmacro %}
