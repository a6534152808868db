%% Public header of khepri-rs, source compatible with Khepri 0.17-0.19's
%% `include/khepri.hrl': same record names, field order and defaults, same
%% macro names and meanings (SPEC section 2.10).
%%
%% Include it with `-include_lib("khepri/include/khepri.hrl").'

-ifndef(KHEPRI_HRL).
-define(KHEPRI_HRL, true).

%% -------------------------------------------------------------------
%% Special path components.
%% -------------------------------------------------------------------

%% They are plain characters (integers) so that they cannot be confused with
%% node ids, which are atoms or binaries.
-define(KHEPRI_ROOT_NODE, $/).
-define(THIS_KHEPRI_NODE, $.).
-define(PARENT_KHEPRI_NODE, $^).

%% -------------------------------------------------------------------
%% Guard macros.
%% -------------------------------------------------------------------

-define(IS_KHEPRI_STORE_ID(StoreId), is_atom(StoreId)).

-define(IS_KHEPRI_NODE_ID(PathComponent),
        (is_atom(PathComponent) orelse is_binary(PathComponent))).

-define(IS_SPECIAL_KHEPRI_PATH_COMPONENT(PathComponent),
        (PathComponent =:= ?KHEPRI_ROOT_NODE orelse
         PathComponent =:= ?THIS_KHEPRI_NODE orelse
         PathComponent =:= ?PARENT_KHEPRI_NODE)).

-define(IS_KHEPRI_PATH_COMPONENT(PathComponent),
        (?IS_KHEPRI_NODE_ID(PathComponent) orelse
         ?IS_SPECIAL_KHEPRI_PATH_COMPONENT(PathComponent))).

%% Like upstream, only the first component is looked at: a guard cannot walk
%% a list. `khepri_path:is_valid/1' does the full check.
-define(IS_KHEPRI_PATH(Path),
        (is_list(Path) andalso
         (Path =:= [] orelse ?IS_KHEPRI_PATH_COMPONENT(hd(Path))))).

%% Helpers for the `_OR_COMPAT' macros: a Unix-like path is a string (a list
%% starting with a character) or a binary.
-define(KHEPRI__IS_STRING(String),
        (is_list(String) andalso
         (String =:= [] orelse
          (is_integer(hd(String)) andalso hd(String) >= 0)))).

-define(KHEPRI__IS_UNIX_PATH(Path),
        (?KHEPRI__IS_STRING(Path) orelse is_binary(Path))).

-define(IS_KHEPRI_PATH_OR_COMPAT(Path),
        (?IS_KHEPRI_PATH(Path) orelse ?KHEPRI__IS_UNIX_PATH(Path))).

-define(IS_KHEPRI_CONDITION(Condition),
        (is_record(Condition, if_name_matches) orelse
         is_record(Condition, if_path_matches) orelse
         is_record(Condition, if_has_payload) orelse
         is_record(Condition, if_has_data) orelse
         is_record(Condition, if_has_sproc) orelse
         is_record(Condition, if_data_matches) orelse
         is_record(Condition, if_node_exists) orelse
         is_record(Condition, if_payload_version) orelse
         is_record(Condition, if_child_list_version) orelse
         is_record(Condition, if_child_list_length) orelse
         is_record(Condition, if_not) orelse
         is_record(Condition, if_all) orelse
         is_record(Condition, if_any))).

-define(IS_KHEPRI_PATH_CONDITION(PathCondition),
        (?IS_KHEPRI_PATH_COMPONENT(PathCondition) orelse
         ?IS_KHEPRI_CONDITION(PathCondition))).

-define(IS_KHEPRI_PATH_PATTERN(Path),
        (is_list(Path) andalso
         (Path =:= [] orelse ?IS_KHEPRI_PATH_CONDITION(hd(Path))))).

-define(IS_KHEPRI_PATH_PATTERN_OR_COMPAT(Path),
        (?IS_KHEPRI_PATH_PATTERN(Path) orelse ?KHEPRI__IS_UNIX_PATH(Path))).

%% -------------------------------------------------------------------
%% Path conditions (semantics: SPEC section 2.10, `khepri_condition').
%% -------------------------------------------------------------------

%% `compiled' fields are caches filled by `khepri_condition:compile/1'; user
%% code leaves them to their default.

-record(if_name_matches,
        {regex = any :: any | iodata() | unicode:charlist(),
         compiled = undefined :: term()}).

-record(if_path_matches,
        {regex = any :: any | iodata() | unicode:charlist(),
         compiled = undefined :: term()}).

-record(if_has_payload,
        {has_payload = true :: boolean()}).

-record(if_has_data,
        {has_data = true :: boolean()}).

-record(if_has_sproc,
        {has_sproc = true :: boolean()}).

-record(if_data_matches,
        {pattern = '_' :: ets:match_pattern() | term(),
         conditions = [] :: [any()],
         compiled = undefined :: term()}).

-record(if_node_exists,
        {exists = true :: boolean()}).

-record(if_payload_version,
        {version = 0 :: non_neg_integer() |
                        khepri_condition:comparison_op(non_neg_integer())}).

-record(if_child_list_version,
        {version = 0 :: non_neg_integer() |
                        khepri_condition:comparison_op(non_neg_integer())}).

-record(if_child_list_length,
        {count = 0 :: non_neg_integer() |
                      khepri_condition:comparison_op(non_neg_integer())}).

-record(if_not,
        {condition :: khepri_path:pattern_component()}).

-record(if_all,
        {conditions = [] :: [khepri_path:pattern_component()]}).

-record(if_any,
        {conditions = [] :: [khepri_path:pattern_component()]}).

%% `*' and `**' in Unix-like paths.
-define(KHEPRI_WILDCARD_STAR, #if_name_matches{regex = any}).
-define(KHEPRI_WILDCARD_STAR_STAR, #if_path_matches{regex = any}).

%% -------------------------------------------------------------------
%% Trigger descriptor.
%% -------------------------------------------------------------------

%% The argument given to a trigger's action (stored procedure) when the
%% trigger fires. For a tree event, `event' holds `path' and `change'
%% (`create | update | delete') and the node props; `action' is `#{}' for a
%% stored procedure action.
-record(khepri_trigger,
        {type = tree :: tree | process,
         store_id :: atom(),
         trigger_id :: atom(),
         event = #{} :: map(),
         action = #{} :: map()}).

%% -------------------------------------------------------------------
%% Error terms.
%% -------------------------------------------------------------------

%% A reason returned as `{error, ?khepri_error(Name, Props)}'.
-define(khepri_error(Name, Props), {khepri, Name, Props}).

%% A reason raised with `erlang:error(?khepri_exception(Name, Props))'.
-define(khepri_exception(Name, Props), {khepri_ex, Name, Props}).

-endif.
