{#-
    Returns true when a spreadsheet cell says its row is a total: the word `total`, `totals`, `subtotal`,
    `grandtotal` or `sum` (any case, `Total`, `Grand total`, `Sub-total`, `Totals:`, `=SUM(C2:C9)`), as a whole word
    (`summer sale` is not a total). With anywhere=false, for free text such as notes, the word must begin or end
    the cell (`Total for March`, `March total`), so a note that only mentions a total (`budget raised, total now
    5k/day`) does not make its line a summary. Null when the cell is null.
-#}
{% macro is_total_label(value, anywhere=true) -%}
    {%- set text = "lower(trim(" ~ value ~ "))" -%}
    {%- set word = "((sub|grand)[ -]?)?(totals?|sum)" -%}
    {%- if anywhere -%}
        {{ is_full_match(text, "(.*[^a-z])?" ~ word ~ "([^a-z].*)?") }}
    {%- else -%}
        ({{ is_full_match(text, word ~ "([^a-z].*)?") }} or {{ is_full_match(text, "(.*[^a-z])?" ~ word ~ "[^a-z]*") }})
    {%- endif -%}
{%- endmacro %}
