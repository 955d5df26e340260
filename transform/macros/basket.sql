{#
  One row per prediction, window and role that the registry gives the prediction's `source` signals, judging the
  role's signals together (int_signal_windows has each signal's numbers per window). With compare='yoy' each
  signal's level in the window is compared with its level a year earlier (mean daily views, documents, stories);
  with compare='within' the signal's change inside the window is used (start -> end stars, the close before the
  window -> its last close), or the per-signal column `measure` (e.g. 'last_quarter_share_pct').

  Coverage: a signal counts only when it is covered in every span compared; a role is sufficient when at least one
  of its signals counts and the counted ones are at least `min_coverage` of the registered ones. Signals left out
  are listed with the reason, never filled in; a signal judged from its first observation says so (`life_notes`).

  `detail` is the SQL text that describes one counted signal in the evidence.
#}
{% macro basket(source, compare, measure='change_pct',
                detail="format('{} {:+.1f}%', per_signal.signal, per_signal.change_pct)") %}
(
    with settings as (
        select * from {{ ref('stg_registry__settings') }}
    ),

    members as (
        select signals.prediction_id, windows."window", windows.label, windows.prior_label, signals.signal,
            signals.role
        from {{ ref('stg_registry__signals') }} as signals
        inner join {{ ref('int_prediction_windows') }} as windows on windows.prediction_id = signals.prediction_id
        where signals.source = '{{ source }}'
    ),

    per_signal as (
        select
            members.prediction_id,
            members."window",
            members.signal,
            members.role,
            this.peak_period,
            {% if compare == 'yoy' %}
            coalesce(this.prior_judged_from, this.judged_from) as judged_from,
            this.prior_level as from_level,
            this.level as to_level,
            100 * (this.level / nullif(this.prior_level, 0) - 1) as change_pct,
            coalesce(this.prior_is_covered and this.is_covered and this.prior_level > 0, false) as is_covered,
            case
                when (this.prior_level is null or this.level is null) and status.status <> 'ok'
                    then 'no data: ' || coalesce(status.problem, status.status)
                when not this.prior_is_covered then this.prior_coverage_note
                when not this.is_covered then this.coverage_note
                when this.prior_level = 0 then format('nothing in {} to compare with', members.prior_label)
            end as gap
            {% else %}
            this.judged_from,
            this.start_level as from_level,
            this.level as to_level,
            this.{{ measure }} as change_pct,
            coalesce(this.is_covered and this.{{ measure }} is not null, false) as is_covered,
            case
                when this.level is null and this.start_level is null and status.status <> 'ok'
                    then 'no data: ' || coalesce(status.problem, status.status)
                when not this.is_covered then this.coverage_note
                else format('too little data in {} to measure', members.label)
            end as gap
            {% endif %}
        from members
        left join {{ ref('int_signal_status') }} as status
            on status.source = '{{ source }}' and status.signal = members.signal
        left join {{ ref('int_signal_windows') }} as this
            on this.source = '{{ source }}' and this.signal = members.signal and this."window" = members."window"
    )

    select
        per_signal.prediction_id,
        per_signal."window",
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
        string_agg(format('{} judged from its first observation ({})', per_signal.signal,
            strftime(per_signal.judged_from, '%Y-%m')), ', ' order by per_signal.signal)
            filter (where per_signal.is_covered and per_signal.judged_from is not null) as life_notes,
        coalesce(list('{{ source }}:' || per_signal.signal order by per_signal.signal)
            filter (where per_signal.is_covered), []) as input_signals,
        count(*) filter (where per_signal.is_covered) > 0
            and count(*) filter (where per_signal.is_covered) / count(*) >= any_value(settings.min_coverage)
            as is_sufficient
    from per_signal
    cross join settings
    group by per_signal.prediction_id, per_signal."window", per_signal.role
)
{% endmacro %}
