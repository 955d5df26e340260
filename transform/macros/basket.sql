{#
  One row per role that `prediction_id` gives its `source` signals in the registry, judging the role's signals
  together. With `to_year`, each signal's `level` in `from_year` is compared with its level in `to_year` (mean daily
  views, documents); without it, each signal's change inside `from_year` is used (start → end stars, previous
  year-end close → year-end close). Years are SQL expressions over the registry's settings, e.g.
  'settings.prediction_year'.

  Coverage: a signal counts only when it is covered in every year compared (see int_signal_yearly); a role is
  sufficient when at least one of its signals counts and the counted ones are at least `min_coverage` of the
  registered ones. Signals left out are listed with the reason, never filled in.

  `measure` (within a year only) picks the per-signal column judged, e.g. 'last_quarter_share_pct'; `detail` is
  the SQL text that describes one counted signal in the evidence.
#}
{% macro basket(prediction_id, source, from_year, to_year=none, measure='change_pct',
                detail="format('{} {:+.1f}%', per_signal.signal, per_signal.change_pct)") %}
(
    with settings as (
        select * from {{ ref('stg_registry__settings') }}
    ),

    members as (
        select signal, role
        from {{ ref('stg_registry__signals') }}
        where prediction_id = '{{ prediction_id }}' and source = '{{ source }}'
    ),

    per_signal as (
        select
            members.signal,
            members.role,
            {% if to_year is none %}
            this.start_level as from_level,
            this.level as to_level,
            this.{{ measure }} as change_pct,
            this.peak_period,
            coalesce(this.is_covered and this.{{ measure }} is not null, false) as is_covered,
            case
                when this.signal is null and status.status <> 'ok'
                    then 'no data: ' || coalesce(status.reason, status.status)
                when this.signal is null then format('no data in {}', {{ from_year }})
                when not this.is_covered then this.coverage_note
                else format('too little data in {} to measure', {{ from_year }})
            end as gap
            {% else %}
            before.level as from_level,
            after.level as to_level,
            100 * (after.level / nullif(before.level, 0) - 1) as change_pct,
            coalesce(before.is_covered and after.is_covered and before.level > 0, false) as is_covered,
            case
                when (before.signal is null or after.signal is null) and status.status <> 'ok'
                    then 'no data: ' || coalesce(status.reason, status.status)
                when before.signal is null then format('no data in {}', {{ from_year }})
                when not before.is_covered then before.coverage_note
                when after.signal is null then format('no data in {}', {{ to_year }})
                when not after.is_covered then after.coverage_note
                when before.level = 0 then format('nothing in {} to compare with', {{ from_year }})
            end as gap
            {% endif %}
        from members
        cross join settings
        left join {{ ref('int_signal_status') }} as status
            on status.source = '{{ source }}' and status.signal = members.signal
        {% if to_year is none %}
        left join {{ ref('int_signal_yearly') }} as this
            on this.source = '{{ source }}' and this.signal = members.signal and this.year = {{ from_year }}
        {% else %}
        left join {{ ref('int_signal_yearly') }} as before
            on before.source = '{{ source }}' and before.signal = members.signal and before.year = {{ from_year }}
        left join {{ ref('int_signal_yearly') }} as after
            on after.source = '{{ source }}' and after.signal = members.signal and after.year = {{ to_year }}
        {% endif %}
    )

    select
        per_signal.role,
        count(*) as registered,
        count(*) filter (where per_signal.is_covered) as covered,
        sum(per_signal.from_level) filter (where per_signal.is_covered) as from_total,
        sum(per_signal.to_level) filter (where per_signal.is_covered) as to_total,
        100 * (sum(per_signal.to_level) filter (where per_signal.is_covered)
            / sum(per_signal.from_level) filter (where per_signal.is_covered) - 1) as total_change_pct,
        avg(per_signal.change_pct) filter (where per_signal.is_covered) as mean_change_pct,
        median(per_signal.change_pct) filter (where per_signal.is_covered) as median_change_pct,
        string_agg(per_signal.signal, '+' order by per_signal.signal) as signals,
        string_agg({{ detail }}, ', ' order by per_signal.signal) filter (where per_signal.is_covered) as detail,
        string_agg(format('{} ({})', per_signal.signal, per_signal.gap), ', ' order by per_signal.signal)
            filter (where not per_signal.is_covered) as gaps,
        string_agg(per_signal.gap, ', ' order by per_signal.signal) filter (where not per_signal.is_covered)
            as gap_reasons,
        coalesce(list('{{ source }}:' || per_signal.signal order by per_signal.signal)
            filter (where per_signal.is_covered), []) as input_signals,
        count(*) filter (where per_signal.is_covered) > 0
            and count(*) filter (where per_signal.is_covered) / count(*) >= any_value(settings.min_coverage)
            as is_sufficient
    from per_signal
    cross join settings
    group by per_signal.role
)
{% endmacro %}
