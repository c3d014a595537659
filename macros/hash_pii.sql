{#-
    Returns a pseudonymous key for a piece of PII: the hash (dbt.hash: md5 on most warehouses) of the value
    lowercased and trimmed, so `  Ada@Example.com ` and `ada@example.com` hash alike. Null or blank -> null.
    Not encryption: a known value can be hashed and matched. Keep hashes out of public exports.
-#}
{% macro hash_pii(value) -%}
    case
        when trim({{ value }}) = '' then null
        else {{ dbt.hash("lower(trim(" ~ value ~ "))") }}
    end
{%- endmacro %}
