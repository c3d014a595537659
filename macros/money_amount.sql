{#-
    Returns a money amount as decimal(18,2): the value rounded to the cent, then cast. Money lands from the
    loader as double; the intermediate decimal(38,6) keeps round() portable (PostgreSQL has no round(double, int)).
-#}
{% macro money_amount(expression) -%}
    cast(round(cast({{ expression }} as decimal(38,6)), 2) as decimal(18,2))
{%- endmacro %}
