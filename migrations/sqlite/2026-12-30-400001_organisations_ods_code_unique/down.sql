DROP INDEX organisations_ods_code;
