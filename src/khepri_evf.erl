%% @doc Event filters: what a trigger watches (SPEC 2.11, 4.6).
%%
%% The only kind of event filter is the tree event filter, built by {@link
%% tree/2}: a path pattern plus properties. Functions registering triggers
%% go through {@link wrap/1}, so a bare path or pattern is accepted wherever
%% an event filter is.

-module(khepri_evf).

-include("khepri.hrl").
-include("khepri_evf.hrl").

-export([tree/1, tree/2,
         wrap/1,
         get_priority/1,
         set_priority/2]).

-type priority() :: integer().
%% Triggers fired by the same command run by descending priority (then by
%% trigger id). Negative values are allowed; the default is 0.

-type tree_event_filter_props() ::
        #{on_actions => [create | update | delete],
          priority => priority()}.
%% Properties of a tree event filter: `on_actions' lists the changes that
%% fire the trigger (absent or `[]' means all three), `priority' orders
%% triggers (see {@link priority()}).

-type tree_event_filter() :: #evf_tree{}.
%% A filter on changes to the nodes matching a path pattern.

-type event_filter() :: tree_event_filter().
%% Any event filter.

-export_type([event_filter/0,
              tree_event_filter/0,
              tree_event_filter_props/0,
              priority/0]).

-define(ACTIONS, [create, update, delete]).

-spec tree(PathPattern) -> EventFilter when
      PathPattern :: khepri_path:pattern(),
      EventFilter :: tree_event_filter().
%% @doc Builds a tree event filter with default properties.
%%
%% Same as `tree(PathPattern, #{})'.

tree(PathPattern) ->
    tree(PathPattern, #{}).

-spec tree(PathPattern, Props) -> EventFilter when
      PathPattern :: khepri_path:pattern(),
      Props :: tree_event_filter_props(),
      EventFilter :: tree_event_filter().
%% @doc Builds a tree event filter.
%%
%% `PathPattern' is a native pattern or a Unix-like one (string or binary),
%% parsed with `khepri_path:from_string/1'. It is checked here rather than
%% when a trigger fires, because the engine evaluates it at apply time: an
%% invalid pattern raises `invalid_path' (with `component'), an
%% `#if_data_matches{}' the engine cannot evaluate raises
%% `unsupported_condition'.
%%
%% `Props' may hold `on_actions' (a list of `create', `update', `delete') and
%% `priority' (an integer); any other key or value raises
%% `?khepri_exception(invalid_option, #{option => Key, value => Value})', as
%% options do everywhere else (SPEC 1.3).

tree(PathPattern, Props) ->
    Pattern = khepri_path:from_string(PathPattern),
    ok = khepri_path:ensure_is_valid(Pattern),
    ok = khepri_condition:validate_data_matches(Pattern),
    ok = validate_props(Props),
    #evf_tree{path = Pattern, props = Props}.

validate_props(Props) when is_map(Props) ->
    maps:foreach(fun validate_prop/2, Props);
validate_props(Props) ->
    invalid_option(props, Props).

validate_prop(on_actions, Actions) ->
    case are_actions(Actions) of
        true  -> ok;
        false -> invalid_option(on_actions, Actions)
    end;
validate_prop(priority, Priority) when is_integer(Priority) ->
    ok;
validate_prop(Key, Value) ->
    invalid_option(Key, Value).

%% A proper list of known actions; walked by hand because lists:all/2 fails
%% on an improper list.
are_actions([Action | Rest]) ->
    lists:member(Action, ?ACTIONS) andalso are_actions(Rest);
are_actions([]) ->
    true;
are_actions(_NotAList) ->
    false.

invalid_option(Key, Value) ->
    erlang:error(?khepri_exception(invalid_option,
                                   #{option => Key, value => Value})).

-spec wrap(Input) -> EventFilter when
      Input :: event_filter() | khepri_path:pattern(),
      EventFilter :: event_filter().
%% @doc Returns an event filter as is, and makes a tree event filter with
%% default properties of anything else (a native pattern, or a Unix-like one
%% as a string or a binary), see {@link tree/1}.

wrap(#evf_tree{} = EventFilter) ->
    EventFilter;
wrap(PathPattern) ->
    tree(PathPattern).

-spec get_priority(EventFilter) -> Priority when
      EventFilter :: event_filter(),
      Priority :: priority().
%% @doc Returns the priority of an event filter (0 unless set).

get_priority(#evf_tree{props = #{priority := Priority}}) ->
    Priority;
get_priority(#evf_tree{}) ->
    0.

-spec set_priority(EventFilter, Priority) -> EventFilter when
      EventFilter :: event_filter(),
      Priority :: priority().
%% @doc Returns the event filter with its priority set to `Priority'.
%%
%% A non-integer priority raises `?khepri_exception(invalid_option,
%% #{option => priority, value => Priority})'.

set_priority(#evf_tree{props = Props} = EventFilter, Priority)
  when is_integer(Priority) ->
    EventFilter#evf_tree{props = Props#{priority => Priority}};
set_priority(#evf_tree{}, Priority) ->
    invalid_option(priority, Priority).
